/** IdentityStore contract: `(partnerId, sub)` -> one Jupid user, in memory and on DynamoDB. */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { LoginProfile } from "../../lambdas/ports/index.ts";
import { uniquePartnerId, useWorld, WORLD_KINDS } from "./worlds.ts";

describe.each(WORLD_KINDS)("IdentityStore contract [%s]", (kind) => {
  const world = useWorld(kind, "identity");
  const login = (profile: LoginProfile, now: number) =>
    world().deps.identities.recordLogin(profile, `u-${randomUUID()}`, now);

  it("creates the user on first login and stores every profile field", async () => {
    const partnerId = uniquePartnerId();
    const payload = { plan: "pro", seats: 3, nested: { tags: ["a", "ü"], ok: true } };
    const { user, created } = await world().deps.identities.recordLogin(
      { partnerId, sub: "user-1", email: "first@example.com", name: "First Name", payload },
      "u-fixed-1",
      1_700_000_000_123,
    );
    expect(created).toBe(true);
    expect(user).toEqual({
      userId: "u-fixed-1",
      partnerId,
      sub: "user-1",
      email: "first@example.com",
      name: "First Name",
      payload,
      createdAt: 1_700_000_000_123,
      lastLoginAt: 1_700_000_000_123,
    });
    expect(await world().deps.identities.getUser("u-fixed-1")).toEqual(user);
    expect(await world().deps.identities.findUserId(partnerId, "user-1")).toBe("u-fixed-1");
  });

  it("keeps the first email and updates name, payload and lastLoginAt on later logins", async () => {
    const partnerId = uniquePartnerId();
    const first = await login({ partnerId, sub: "s", email: "first@example.com", name: "Old", payload: { v: 1 } }, 1000);
    const second = await login({ partnerId, sub: "s", email: "changed@example.com", name: "New", payload: { v: 2 } }, 2000);
    expect(second.created).toBe(false);
    expect(second.user).toEqual({
      ...first.user,
      email: "first@example.com",
      name: "New",
      payload: { v: 2 },
      createdAt: 1000,
      lastLoginAt: 2000,
    });
    expect(await world().deps.identities.getUser(first.user.userId)).toEqual(second.user);
  });

  it("never stores an email given only on a later login", async () => {
    const partnerId = uniquePartnerId();
    const first = await login({ partnerId, sub: "s" }, 1000);
    expect(first.user.email).toBeUndefined();
    const second = await login({ partnerId, sub: "s", email: "late@example.com" }, 2000);
    expect(second.user.email).toBeUndefined();
    expect((await world().deps.identities.getUser(first.user.userId))?.email).toBeUndefined();
  });

  it("clears name and payload when a later login omits them (the token is the source of truth)", async () => {
    const partnerId = uniquePartnerId();
    const first = await login({ partnerId, sub: "s", email: "a@example.com", name: "N", payload: { k: "v" } }, 1000);
    const second = await login({ partnerId, sub: "s" }, 2000);
    expect(second.user.name).toBeUndefined();
    expect(second.user.payload).toBeUndefined();
    expect(second.user.email).toBe("a@example.com");
    const stored = await world().deps.identities.getUser(first.user.userId);
    expect(stored?.name).toBeUndefined();
    expect(stored?.payload).toBeUndefined();
  });

  it("never links users by email", async () => {
    const partnerId = uniquePartnerId();
    const a = await login({ partnerId, sub: "a", email: "same@example.com" }, 1000);
    const b = await login({ partnerId, sub: "b", email: "same@example.com" }, 1000);
    expect(b.created).toBe(true);
    expect(b.user.userId).not.toBe(a.user.userId);
    // Nor across partners: the same sub and email at another partner is another user.
    const other = await login({ partnerId: uniquePartnerId(), sub: "a", email: "same@example.com" }, 1000);
    expect(other.created).toBe(true);
    expect(other.user.userId).not.toBe(a.user.userId);
  });

  it("compares sub byte-exact: case, whitespace and Unicode forms are different users", async () => {
    const partnerId = uniquePartnerId();
    const subs = ["Alice", "alice", "alice ", " alice", "ALICE", "ａlice", "caf\u00e9", "cafe\u0301", "a#b", "MAP#x"];
    const ids = new Map<string, string>();
    for (const sub of subs) {
      const { user, created } = await login({ partnerId, sub }, 1000);
      expect(created, `first login of ${JSON.stringify(sub)}`).toBe(true);
      expect(user.sub).toBe(sub);
      ids.set(sub, user.userId);
    }
    expect(new Set(ids.values()).size).toBe(subs.length);
    for (const sub of subs) {
      expect(await world().deps.identities.findUserId(partnerId, sub)).toBe(ids.get(sub));
      const again = await login({ partnerId, sub }, 2000);
      expect(again).toMatchObject({ created: false, user: { userId: ids.get(sub), sub } });
    }
    expect(await world().deps.identities.findUserId(partnerId, "alice\u0000")).toBeUndefined();
  });

  it("answers undefined for unknown users and mappings", async () => {
    expect(await world().deps.identities.getUser(`u-${randomUUID()}`)).toBeUndefined();
    expect(await world().deps.identities.findUserId(uniquePartnerId(), "nobody")).toBeUndefined();
  });

  it("turns 50 concurrent first logins for one (partner, sub) into exactly one user and one mapping", async () => {
    const partnerId = uniquePartnerId("race");
    const results = await world().race(50, (contenders) =>
      Promise.all(
        contenders.map(({ identities }, i) =>
          identities.recordLogin(
            { partnerId, sub: "racer", email: `racer${i}@example.com`, name: `Racer ${i}` },
            `u-race-${i}-${randomUUID()}`,
            1000 + i,
          ),
        ),
      ),
    );
    const creators = results.filter((r) => r.created);
    expect(creators).toHaveLength(1);
    const winner = creators[0]?.user;
    expect(winner).toBeDefined();
    expect(new Set(results.map((r) => r.user.userId))).toEqual(new Set([winner?.userId]));
    // The email is the creator's: whoever lost the race only updated.
    for (const r of results) expect(r.user.email).toBe(winner?.email);
    expect(await world().deps.identities.findUserId(partnerId, "racer")).toBe(winner?.userId);
    const stored = await world().deps.identities.getUser(winner?.userId ?? "");
    expect(stored?.email).toBe(winner?.email);
    expect(stored?.createdAt).toBe(winner?.createdAt);

    const rows = await world().storedIdentityRows(partnerId);
    expect(rows.users).toBe(1);
    if (kind === "aws") expect(rows.mappings).toBe(1);
  });

  it("keeps users apart when many different subs log in concurrently", async () => {
    const partnerId = uniquePartnerId("many");
    const results = await world().race(30, (contenders) =>
      Promise.all(contenders.map(({ identities }, i) => identities.recordLogin({ partnerId, sub: `sub-${i}` }, `u-${randomUUID()}`, 1000))),
    );
    expect(results.every((r) => r.created)).toBe(true);
    expect(new Set(results.map((r) => r.user.userId)).size).toBe(30);
    const rows = await world().storedIdentityRows(partnerId);
    expect(rows.users).toBe(30);
    if (kind === "aws") expect(rows.mappings).toBe(30);
  });
});
