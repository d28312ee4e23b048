/**
 * The partner kit's signEmbedToken: the exact token shape the gateway wants,
 * proven by the gateway's own verifyPartnerToken under a frozen clock, and
 * fail-fast validation of options the gateway would refuse anyway.
 */
import { decodeProtectedHeader, decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { MAX_TOKEN_LIFETIME_SECONDS } from "../../config/schema.ts";
import {
  MIN_SECRET_BYTES as CORE_MIN_SECRET_BYTES,
  TOKEN_AUDIENCE,
  verifyPartnerToken,
} from "../../lambdas/core/token-policy.ts";
import {
  DEFAULT_TTL_SECONDS,
  EMBED_TOKEN_AUDIENCE,
  EmbedTokenOptionsError,
  MAX_TTL_SECONDS,
  MIN_SECRET_BYTES,
  signEmbedToken,
} from "../../sdk/src/server.ts";
import { partnerInput, testEnvironment } from "../fixtures/partners.ts";
import { NOW, NOW_S, OTHER_SECRET, TEST_SECRET } from "../fixtures/tokens.ts";

const partner = testEnvironment([partnerInput("acme-books")]).partners[0]!;
const keys = [{ kid: "k1", secret: TEST_SECRET, stage: "current" as const }];
const user = { id: "user-42", email: "ada@example.com", name: "Ada Lovelace", payload: { plan: "pro" } };

describe("signEmbedToken", () => {
  it("mirrors the gateway's constants", () => {
    expect(EMBED_TOKEN_AUDIENCE).toBe(TOKEN_AUDIENCE);
    expect(MAX_TTL_SECONDS).toBe(MAX_TOKEN_LIFETIME_SECONDS);
    expect(MIN_SECRET_BYTES).toBe(CORE_MIN_SECRET_BYTES);
    expect(DEFAULT_TTL_SECONDS).toBe(300);
  });

  it("signs exactly the header and claims the gateway requires", async () => {
    const token = await signEmbedToken({ partnerId: "acme-books", secret: TEST_SECRET, user, now: NOW });
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
    const claims = decodeJwt(token);
    expect(claims).toEqual({
      iss: "acme-books",
      aud: "jupid-embed",
      sub: "user-42",
      email: "ada@example.com",
      name: "Ada Lovelace",
      payload: { plan: "pro" },
      iat: NOW_S,
      exp: NOW_S + 300,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(typeof claims.aud).toBe("string"); // not ["jupid-embed"]: the gateway wants the string
    await expect(verifyPartnerToken(token, partner, keys, NOW)).resolves.toMatchObject({ sub: "user-42", kid: "k1" });
  });

  it("gives every token a fresh jti", async () => {
    const a = decodeJwt(await signEmbedToken({ partnerId: "acme-books", secret: TEST_SECRET, user, now: NOW }));
    const b = decodeJwt(await signEmbedToken({ partnerId: "acme-books", secret: TEST_SECRET, user, now: NOW }));
    expect(a.jti).not.toBe(b.jti);
  });

  it("omits optional claims that are not given and honours ttl, kid, jti and a Date for now", async () => {
    const token = await signEmbedToken({
      partnerId: "acme-books",
      secret: TEST_SECRET,
      user: { id: "u" },
      ttlSeconds: 60,
      kid: "k1",
      jti: "fixed-jti",
      now: new Date(NOW + 999),
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT", kid: "k1" });
    expect(decodeJwt(token)).toEqual({ iss: "acme-books", aud: "jupid-embed", sub: "u", iat: NOW_S, exp: NOW_S + 60, jti: "fixed-jti" });
    await expect(verifyPartnerToken(token, partner, keys, NOW)).resolves.toMatchObject({ kid: "k1" });
  });

  it("uses the secret's UTF-8 bytes: a non-ASCII secret verifies, another secret does not", async () => {
    const secret = "sécret-ключ-秘密-0123456789abcdefghij";
    const token = await signEmbedToken({ partnerId: "acme-books", secret, user, now: NOW });
    await expect(verifyPartnerToken(token, partner, [{ kid: "u", secret, stage: "current" }], NOW)).resolves.toBeDefined();
    await expect(verifyPartnerToken(token, partner, [{ kid: "o", secret: OTHER_SECRET, stage: "current" }], NOW)).rejects.toMatchObject({
      code: "TOKEN_SIGNATURE_INVALID",
    });
  });

  it("a token at the partner's maximum lifetime passes; one second more is refused by the gateway", async () => {
    const short = testEnvironment([partnerInput("acme-books", { maxTokenLifetimeSeconds: 120 })]).partners[0]!;
    const ok = await signEmbedToken({ partnerId: "acme-books", secret: TEST_SECRET, user, ttlSeconds: 120, now: NOW });
    const tooLong = await signEmbedToken({ partnerId: "acme-books", secret: TEST_SECRET, user, ttlSeconds: 121, now: NOW });
    await expect(verifyPartnerToken(ok, short, keys, NOW)).resolves.toBeDefined();
    await expect(verifyPartnerToken(tooLong, short, keys, NOW)).rejects.toMatchObject({ code: "TOKEN_LIFETIME_TOO_LONG" });
  });

  it.each([
    ["a partner id that is not one", { partnerId: "Acme Books" }, /partnerId/],
    ["a short secret", { secret: "x".repeat(31) }, /at least 32 bytes/],
    ["an empty user id", { user: { id: "" } }, /user.id/],
    ["a too long user id", { user: { id: "x".repeat(256) } }, /user.id/],
    ["a ttl of 0", { ttlSeconds: 0 }, /ttlSeconds/],
    ["a ttl above 900", { ttlSeconds: 901 }, /ttlSeconds/],
    ["a fractional ttl", { ttlSeconds: 1.5 }, /ttlSeconds/],
    ["a bad kid", { kid: "a b" }, /kid/],
    ["an array payload", { user: { id: "u", payload: [] as unknown as Record<string, unknown> } }, /payload/],
    ["a payload over 4 KB", { user: { id: "u", payload: { big: "x".repeat(4100) } } }, /4096 bytes/],
  ])("refuses %s before signing", async (_label, override, message) => {
    const call = signEmbedToken({ partnerId: "acme-books", secret: TEST_SECRET, user, now: NOW, ...override });
    await expect(call).rejects.toBeInstanceOf(EmbedTokenOptionsError);
    await expect(call).rejects.toThrow(message);
  });

  it("is importable by the package's own name, as the examples import it", async () => {
    const viaPackage = await import("@jupid/embed/server");
    expect(viaPackage.signEmbedToken).toBe(signEmbedToken);
  });
});
