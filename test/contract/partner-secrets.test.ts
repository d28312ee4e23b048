/** PartnerSecrets contract: current key, previous key during a rotation overlap, nothing for unknown partners. */
import { describe, expect, it } from "vitest";
import { randomPartnerSecret } from "../support/aws-tables.ts";
import { KEY_ROTATION_OVERLAP_SECONDS, uniquePartnerId, useWorld, WORLD_KINDS } from "./worlds.ts";

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe.each(WORLD_KINDS)("PartnerSecrets contract [%s]", (kind) => {
  const world = useWorld(kind, "secrets");

  it("returns no keys for a partner without a secret", async () => {
    expect(await world().deps.secrets.getKeys(uniquePartnerId())).toEqual([]);
  });

  it("returns the one current key, exactly as stored, with a kid and no end", async () => {
    const partnerId = uniquePartnerId();
    const secret = randomPartnerSecret();
    const kid = await world().createSecret(partnerId, secret);
    const keys = await world().deps.secrets.getKeys(partnerId);
    expect(keys).toEqual([{ kid, secret, stage: "current" }]);
    expect(keys[0]?.kid).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    expect(keys[0]).not.toHaveProperty("notAfter");
    // Stable across reads: a kid a partner has been told must keep selecting the key.
    expect(await world().deps.secrets.getKeys(partnerId)).toEqual(keys);
  });

  it("keeps secrets byte-exact (non-ASCII, spaces, long values)", async () => {
    const partnerId = uniquePartnerId();
    const secret = ` sécret-ключ-${"x".repeat(200)}-秘密 `;
    await world().createSecret(partnerId, secret);
    expect((await world().deps.secrets.getKeys(partnerId))[0]?.secret).toBe(secret);
  });

  it("after a rotation returns the new key as current and the old one as previous until the overlap ends", async () => {
    const partnerId = uniquePartnerId();
    const oldSecret = randomPartnerSecret();
    const newSecret = randomPartnerSecret();
    const oldKid = await world().createSecret(partnerId, oldSecret);
    const before = nowSeconds();
    const newKid = await world().rotateSecret(partnerId, newSecret);
    const after = nowSeconds();

    const keys = await world().deps.secrets.getKeys(partnerId);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toEqual({ kid: newKid, secret: newSecret, stage: "current" });
    expect(keys[1]).toMatchObject({ kid: oldKid, secret: oldSecret, stage: "previous" });
    expect(newKid).not.toBe(oldKid);
    // notAfter = when the new version became current + the overlap (second resolution, allow clock skew).
    const notAfter = keys[1]?.notAfter ?? Number.NaN;
    expect(notAfter).toBeGreaterThanOrEqual(before - 2 + KEY_ROTATION_OVERLAP_SECONDS);
    expect(notAfter).toBeLessThanOrEqual(after + 2 + KEY_ROTATION_OVERLAP_SECONDS);
  });

  it("after two rotations keeps only the latest previous key", async () => {
    const partnerId = uniquePartnerId();
    const first = randomPartnerSecret();
    const second = randomPartnerSecret();
    const third = randomPartnerSecret();
    await world().createSecret(partnerId, first);
    const secondKid = await world().rotateSecret(partnerId, second);
    const thirdKid = await world().rotateSecret(partnerId, third);
    const keys = await world().deps.secrets.getKeys(partnerId);
    expect(keys.map((k) => [k.stage, k.kid, k.secret])).toEqual([
      ["current", thirdKid, third],
      ["previous", secondKid, second],
    ]);
  });

  it("returns only the current key once the overlap is ended early", async () => {
    const partnerId = uniquePartnerId();
    await world().createSecret(partnerId, randomPartnerSecret());
    const current = randomPartnerSecret();
    const kid = await world().rotateSecret(partnerId, current);
    await world().endOverlap(partnerId);
    expect(await world().deps.secrets.getKeys(partnerId)).toEqual([{ kid, secret: current, stage: "current" }]);
  });

  it("never returns another partner's keys", async () => {
    const a = uniquePartnerId("a");
    const b = uniquePartnerId("b");
    const secretA = randomPartnerSecret();
    await world().createSecret(a, secretA);
    expect(await world().deps.secrets.getKeys(b)).toEqual([]);
    const secretB = randomPartnerSecret();
    await world().createSecret(b, secretB);
    expect((await world().deps.secrets.getKeys(a)).map((k) => k.secret)).toEqual([secretA]);
    expect((await world().deps.secrets.getKeys(b)).map((k) => k.secret)).toEqual([secretB]);
  });

  it("keeps the OIDC client secret apart from the signing keys", async () => {
    const partnerId = uniquePartnerId();
    expect(await world().deps.secrets.getOidcClientSecret(partnerId)).toBeUndefined();
    const signing = randomPartnerSecret();
    const client = ` client-sécret-${randomPartnerSecret()} `;
    await world().createSecret(partnerId, signing);
    expect(await world().deps.secrets.getOidcClientSecret(partnerId)).toBeUndefined();
    await world().putOidcClientSecret(partnerId, client);
    expect(await world().deps.secrets.getOidcClientSecret(partnerId)).toBe(client);
    expect((await world().deps.secrets.getKeys(partnerId)).map((key) => key.secret)).toEqual([signing]);
    const replaced = randomPartnerSecret();
    await world().putOidcClientSecret(partnerId, replaced);
    expect(await world().deps.secrets.getOidcClientSecret(partnerId)).toBe(replaced);
  });
});
