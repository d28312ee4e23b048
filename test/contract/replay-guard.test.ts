/** ReplayGuard contract: each `(partnerId, jti)` is claimable once per window, also under races. */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { uniquePartnerId, useWorld, WORLD_KINDS } from "./worlds.ts";

describe.each(WORLD_KINDS)("ReplayGuard contract [%s]", (kind) => {
  const world = useWorld(kind, "replay");

  it("accepts the first claim of a jti and refuses every later one", async () => {
    const { deps, clock } = world();
    const partnerId = uniquePartnerId();
    const jti = randomUUID();
    const until = clock.seconds + 300;
    expect(await deps.replay.claim(partnerId, jti, until)).toBe(true);
    expect(await deps.replay.claim(partnerId, jti, until)).toBe(false);
    expect(await deps.replay.claim(partnerId, jti, until + 600)).toBe(false);
  });

  it("scopes jtis per partner and keeps different jtis apart", async () => {
    const { deps, clock } = world();
    const a = uniquePartnerId("a");
    const b = uniquePartnerId("b");
    const until = clock.seconds + 300;
    expect(await deps.replay.claim(a, "shared-jti", until)).toBe(true);
    expect(await deps.replay.claim(b, "shared-jti", until)).toBe(true);
    expect(await deps.replay.claim(a, "shared-jti-2", until)).toBe(true);
    expect(await deps.replay.claim(a, "Shared-jti", until)).toBe(true);
    // jtis are opaque strings, compared exactly, separators included.
    expect(await deps.replay.claim(a, "x#y", until)).toBe(true);
    expect(await deps.replay.claim(a, "x", until)).toBe(true);
    expect(await deps.replay.claim(a, "x#", until)).toBe(true);
    expect(await deps.replay.claim(a, "x#y", until)).toBe(false);
  });

  it("lets exactly one of 50 concurrent claims of one jti win", async () => {
    const { deps, clock } = world();
    const partnerId = uniquePartnerId("race");
    const jti = randomUUID();
    const results = await world().race(50, (contenders) =>
      Promise.all(contenders.map(({ replay }) => replay.claim(partnerId, jti, clock.seconds + 300))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await deps.replay.claim(partnerId, jti, clock.seconds + 300)).toBe(false);
  });

  it("remembers a jti until expiresAt inclusive and frees it afterwards (even before TTL deletes it)", async () => {
    const { deps, clock } = world();
    const partnerId = uniquePartnerId();
    const jti = randomUUID();
    const start = clock.seconds;
    const until = start + 60;
    expect(await deps.replay.claim(partnerId, jti, until)).toBe(true);

    clock.setSeconds(until);
    expect(await deps.replay.claim(partnerId, jti, until + 60)).toBe(false);

    // One second past the window: the item is still stored (real time has not moved,
    // so no TTL sweep can have removed it), yet the jti is free again...
    clock.setSeconds(until + 1);
    expect(await deps.replay.claim(partnerId, jti, until + 300)).toBe(true);
    // ...and the new claim opens a new window.
    expect(await deps.replay.claim(partnerId, jti, until + 300)).toBe(false);
  });

  it("lets exactly one of 50 concurrent re-claims of an expired jti win", async () => {
    const { deps, clock } = world();
    const partnerId = uniquePartnerId("reclaim");
    const jti = randomUUID();
    expect(await deps.replay.claim(partnerId, jti, clock.seconds + 10)).toBe(true);
    clock.setSeconds(clock.seconds + 11);
    const results = await world().race(50, (contenders) =>
      Promise.all(contenders.map(({ replay }) => replay.claim(partnerId, jti, clock.seconds + 300))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
