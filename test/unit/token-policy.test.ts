import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../lambdas/core/errors.ts";
import { EmbedError } from "../../lambdas/core/errors.ts";
import { MAX_TOKEN_BYTES, verifyPartnerToken } from "../../lambdas/core/token-policy.ts";
import type { PartnerKey } from "../../lambdas/ports/index.ts";
import { mintToken, mintWithJose, NOW, NOW_S, OTHER_SECRET, signInput, signRaw, TEST_SECRET } from "../fixtures/tokens.ts";

const partner = { id: "acme", maxTokenLifetimeSeconds: 300 };
const keys: PartnerKey[] = [{ kid: "k1", secret: TEST_SECRET, stage: "current" }];

async function outcome(token: unknown, options: { keys?: PartnerKey[]; now?: number; max?: number } = {}) {
  try {
    const claims = await verifyPartnerToken(
      token,
      { ...partner, maxTokenLifetimeSeconds: options.max ?? 300 },
      options.keys ?? keys,
      options.now ?? NOW,
    );
    return { ok: true as const, claims };
  } catch (error) {
    if (!(error instanceof EmbedError)) throw error;
    return { ok: false as const, code: error.code, message: error.message, claim: error.details.claim };
  }
}

async function expectCode(token: unknown, code: ErrorCode, options?: Parameters<typeof outcome>[1]) {
  const result = await outcome(token, options);
  expect(result, JSON.stringify(result)).toMatchObject({ ok: false, code });
  if (typeof token === "string" && token.length > 20) {
    // Errors never echo the token or any of its segments.
    for (const segment of token.split(".").filter((s) => s.length > 8)) expect(result.ok ? "" : result.message).not.toContain(segment);
  }
  return result;
}

describe("a valid token", () => {
  it("verifies and returns the claims", async () => {
    const result = await outcome(mintToken("acme"));
    expect(result).toMatchObject({
      ok: true,
      claims: { partnerId: "acme", sub: "user-42", email: "ada@example.com", name: "Ada Lovelace", payload: { plan: "pro" }, kid: "k1" },
    });
  });

  it("signed by jose's SignJWT verifies (interoperability)", async () => {
    expect((await outcome(await mintWithJose("acme"))).ok).toBe(true);
  });

  it("uses the UTF-8 bytes of a non-ASCII secret as the HMAC key", async () => {
    const secret = "ключ-партнёра-🔑-0123456789abcdef";
    const result = await outcome(await mintWithJose("acme", secret), { keys: [{ kid: "u", secret, stage: "current" }] });
    expect(result.ok).toBe(true);
  });
});

describe("compact serialization", () => {
  const good = mintToken("acme");
  const [h, p, s] = good.split(".") as [string, string, string];

  it.each([
    ["a number", 42],
    ["an empty string", ""],
    ["two segments", `${h}.${p}`],
    ["four segments", `${h}.${p}.${s}.${s}`],
    ["padding", `${h}=.${p}.${s}`],
    ["whitespace", `${h}. ${p}.${s}`],
    ["a trailing newline", `${good}\n`],
    ["standard base64 characters", `${h}.${p}.${s.slice(0, -1)}+`],
    ["an empty signature", `${h}.${p}.`],
  ])("refuses %s as TOKEN_MALFORMED", async (_name, token) => {
    await expectCode(token, "TOKEN_MALFORMED");
  });

  it("refuses a non-canonical final character (stray low bits) even when the signature matches", async () => {
    // 28 bytes end in a 1-byte group: the last character carries 4 unused bits. Set one.
    const header = Buffer.from('{"alg":"HS256","typ":"JWT"} ').toString("base64url");
    expect(header.length % 4).toBe(2);
    const last = header.at(-1) as string;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const tweaked = header.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1];
    expect(Buffer.from(tweaked, "base64url").equals(Buffer.from(header, "base64url"))).toBe(true);
    await expectCode(signInput(`${tweaked}.${p}`), "TOKEN_MALFORMED");
  });

  it("refuses a segment of length 4n+1", async () => {
    await expectCode(signInput(`${h}.${p}A`), "TOKEN_MALFORMED");
  });

  it("refuses a token over 8 KB with PAYLOAD_TOO_LARGE, and accepts one just under", async () => {
    const big = (n: number) => mintToken("acme", { claims: { name: "x".repeat(n) } });
    const overhead = big(0).length;
    // name is limited to 256 characters, so grow an ignored claim instead.
    const padded = (n: number) => mintToken("acme", { claims: { pad: "x".repeat(n) } });
    const fits = padded(Math.floor(((MAX_TOKEN_BYTES - overhead) * 3) / 4) - 20);
    expect(fits.length).toBeLessThanOrEqual(MAX_TOKEN_BYTES);
    expect((await outcome(fits)).ok).toBe(true);
    const tooBig = padded(MAX_TOKEN_BYTES);
    expect(tooBig.length).toBeGreaterThan(MAX_TOKEN_BYTES);
    await expectCode(tooBig, "PAYLOAD_TOO_LARGE");
  });

  it.each([
    ["header not JSON", "not json", JSON.stringify({ iss: "acme" })],
    ["header a JSON array", "[1]", JSON.stringify({ iss: "acme" })],
    ["payload a JSON string", JSON.stringify({ alg: "HS256", typ: "JWT" }), '"hello"'],
    ["duplicate header key", '{"alg":"HS256","typ":"JWT","alg":"HS256"}', JSON.stringify({ iss: "acme" })],
    ["duplicate payload key", JSON.stringify({ alg: "HS256", typ: "JWT" }), '{"sub":"a","iss":"acme","sub":"b"}'],
    ["duplicate nested key", JSON.stringify({ alg: "HS256", typ: "JWT" }), '{"payload":{"a":1,"a":2}}'],
  ])("refuses %s", async (_name, header, payload) => {
    await expectCode(signRaw(header, payload), "TOKEN_MALFORMED");
  });

  it("refuses a payload that is not UTF-8", async () => {
    const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString("base64url");
    const payload = Buffer.from([0x7b, 0xff, 0x7d]).toString("base64url");
    await expectCode(signInput(`${header}.${payload}`), "TOKEN_MALFORMED");
  });

  it("accepts equal keys in different objects", async () => {
    const result = await outcome(mintToken("acme", { claims: { payload: { sub: "x", name: "y" } } }));
    expect(result.ok).toBe(true);
  });
});

describe("header", () => {
  it.each([
    ["alg none", { alg: "none" }],
    ["alg HS512", { alg: "HS512" }],
    ["alg RS256", { alg: "RS256" }],
    ["typ missing", { typ: undefined }],
    ["typ lower-case", { typ: "jwt" }],
    ["typ at+jwt", { typ: "at+jwt" }],
    ["a jwk", { jwk: { kty: "oct", k: "AAAA" } }],
    ["a jku", { jku: "https://evil.example/keys" }],
    ["an x5u", { x5u: "https://evil.example/cert" }],
    ["crit", { crit: ["exp"] }],
    ["a kid with a slash", { kid: "../k1" }],
    ["a kid too long", { kid: "k".repeat(65) }],
    ["a numeric kid", { kid: 1 }],
  ])("refuses %s", async (_name, header) => {
    await expectCode(mintToken("acme", { header }), "TOKEN_MALFORMED");
  });

  it("accepts a 64-character kid that names a key", async () => {
    const kid = "k".repeat(64);
    expect((await outcome(mintToken("acme", { header: { kid } }), { keys: [{ kid, secret: TEST_SECRET, stage: "current" }] })).ok).toBe(true);
  });
});

describe("keys and signature", () => {
  const rotated: PartnerKey[] = [
    { kid: "new", secret: OTHER_SECRET, stage: "current" },
    { kid: "old", secret: TEST_SECRET, stage: "previous", notAfter: NOW_S + 60 },
  ];

  it("refuses a token signed with another secret", async () => {
    await expectCode(mintToken("acme", { secret: OTHER_SECRET }), "TOKEN_SIGNATURE_INVALID");
  });

  it("refuses a token whose signature was cut or altered", async () => {
    const token = mintToken("acme");
    const [h, p] = token.split(".");
    const forged = signRaw(
      Buffer.from(h as string, "base64url").toString(),
      JSON.stringify({ ...JSON.parse(Buffer.from(p as string, "base64url").toString()), sub: "admin" }),
      OTHER_SECRET,
    );
    await expectCode(`${h}.${forged.split(".")[1]}.${token.split(".")[2]}`, "TOKEN_SIGNATURE_INVALID");
  });

  it("never uses a secret shorter than 32 bytes, and uses one of exactly 32", async () => {
    const short = "s".repeat(31);
    await expectCode(mintToken("acme", { secret: short }), "TOKEN_SIGNATURE_INVALID", {
      keys: [{ kid: "s", secret: short, stage: "current" }],
    });
    const exact = "s".repeat(32);
    expect((await outcome(mintToken("acme", { secret: exact }), { keys: [{ kid: "s", secret: exact, stage: "current" }] })).ok).toBe(true);
  });

  it("during rotation, accepts the previous key without kid (current tried first)", async () => {
    expect(await outcome(mintToken("acme", { secret: OTHER_SECRET }), { keys: rotated })).toMatchObject({ ok: true, claims: { kid: "new" } });
    expect(await outcome(mintToken("acme"), { keys: rotated })).toMatchObject({ ok: true, claims: { kid: "old" } });
  });

  it("accepts the previous key until notAfter and refuses it one second later", async () => {
    const token = () => mintToken("acme", {}, NOW_S + 60);
    expect((await outcome(token(), { keys: rotated, now: (NOW_S + 60) * 1000 })).ok).toBe(true);
    await expectCode(token(), "TOKEN_SIGNATURE_INVALID", { keys: rotated, now: (NOW_S + 61) * 1000 });
  });

  it("with a kid, uses only that key", async () => {
    expect((await outcome(mintToken("acme", { header: { kid: "old" } }), { keys: rotated })).ok).toBe(true);
    await expectCode(mintToken("acme", { header: { kid: "new" } }), "TOKEN_SIGNATURE_INVALID", { keys: rotated });
    await expectCode(mintToken("acme", { header: { kid: "gone" } }), "TOKEN_SIGNATURE_INVALID", { keys: rotated });
  });

  it("refuses a signature of the wrong length, shorter or longer, also when it starts with the right MAC", async () => {
    const token = mintToken("acme");
    const [h, p, sig] = token.split(".") as [string, string, string];
    const mac = Buffer.from(sig, "base64url");
    const variants = [
      mac.subarray(0, 31), // truncated
      Buffer.concat([mac, Buffer.from([0])]), // one byte more
      Buffer.concat([mac, mac]), // HS512-sized
    ];
    for (const bytes of variants) {
      await expectCode(`${h}.${p}.${bytes.toString("base64url")}`, "TOKEN_SIGNATURE_INVALID");
    }
  });

  it("refuses a signature that differs from the MAC in its last byte only", async () => {
    const token = mintToken("acme");
    const [h, p, sig] = token.split(".") as [string, string, string];
    const mac = Buffer.from(sig, "base64url");
    mac[31] = (mac[31] as number) ^ 1;
    await expectCode(`${h}.${p}.${mac.toString("base64url")}`, "TOKEN_SIGNATURE_INVALID");
  });

  it("with a kid, verifies against that key even when another key comes first, and reports it", async () => {
    const three: PartnerKey[] = [
      { kid: "a", secret: OTHER_SECRET, stage: "current" },
      { kid: "b", secret: TEST_SECRET, stage: "previous", notAfter: NOW_S + 60 },
    ];
    expect(await outcome(mintToken("acme", { header: { kid: "b" } }), { keys: three })).toMatchObject({ ok: true, claims: { kid: "b" } });
    // The kid picks the key: a token signed with a's secret but naming b is refused.
    await expectCode(mintToken("acme", { secret: OTHER_SECRET, header: { kid: "b" } }), "TOKEN_SIGNATURE_INVALID", { keys: three });
  });

  it("caches the HMAC key per key object: a new key under the same kid verifies with its own secret", async () => {
    const first: PartnerKey = { kid: "k", secret: TEST_SECRET, stage: "current" };
    expect((await outcome(mintToken("acme"), { keys: [first] })).ok).toBe(true);
    const replaced: PartnerKey = { kid: "k", secret: OTHER_SECRET, stage: "current" };
    await expectCode(mintToken("acme"), "TOKEN_SIGNATURE_INVALID", { keys: [replaced] });
    expect((await outcome(mintToken("acme", { secret: OTHER_SECRET }), { keys: [replaced] })).ok).toBe(true);
  });

  it("refuses everything when the partner has no key", async () => {
    await expectCode(mintToken("acme"), "TOKEN_SIGNATURE_INVALID", { keys: [] });
  });
});

describe("claims", () => {
  it("iss must be the partner in the URL", async () => {
    await expectCode(mintToken("acme", { claims: { iss: "globex" } }), "TOKEN_ISSUER_MISMATCH");
    await expectCode(mintToken("acme", { omit: ["iss"] }), "TOKEN_ISSUER_MISMATCH");
  });

  it.each([["jupid"], ["Jupid-Embed"], [["jupid-embed"]], [undefined]])("aud %j is refused", async (aud) => {
    await expectCode(mintToken("acme", { claims: { aud } }), "TOKEN_AUDIENCE_MISMATCH");
  });

  it.each([
    ["sub missing", { sub: undefined }, "sub"],
    ["sub empty", { sub: "" }, "sub"],
    ["sub a number", { sub: 42 }, "sub"],
    ["sub of 256 characters", { sub: "s".repeat(256) }, "sub"],
    ["sub with a newline", { sub: "user\n42" }, "sub"],
    ["sub with NUL", { sub: "user\u000042" }, "sub"],
    ["iat a string", { iat: String(NOW_S) }, "iat"],
    ["iat a fraction", { iat: NOW_S + 0.5 }, "iat"],
    ["exp missing", { exp: undefined }, "exp"],
    ["exp before iat", { exp: NOW_S - 1 }, "exp"],
    ["jti missing", { jti: undefined }, "jti"],
    ["jti empty", { jti: "" }, "jti"],
    ["jti of 129 characters", { jti: "j".repeat(129) }, "jti"],
    ["email not an address", { email: "not-an-email" }, "email"],
    ["email with a space", { email: "ada lovelace@example.com" }, "email"],
    ["name a number", { name: 7 }, "name"],
    ["name of 257 characters", { name: "n".repeat(257) }, "name"],
    ["payload an array", { payload: [1, 2] }, "payload"],
    ["payload a string", { payload: "x" }, "payload"],
    ["payload over 4 KB", { payload: { blob: "x".repeat(4096) } }, "payload"],
    ["nbf a string", { nbf: "soon" }, "nbf"],
  ])("%s -> TOKEN_CLAIM_INVALID naming the claim", async (_name, claims, claim) => {
    const result = await expectCode(mintToken("acme", { claims }), "TOKEN_CLAIM_INVALID");
    expect(result.ok ? undefined : result.claim).toBe(claim);
    expect(result.ok ? "" : result.message).toContain(`"${claim}"`);
  });

  it("accepts the largest allowed sub, jti and payload", async () => {
    const payload = { blob: "x".repeat(4096 - '{"blob":""}'.length) };
    expect(Buffer.byteLength(JSON.stringify(payload))).toBe(4096);
    const result = await outcome(mintToken("acme", { claims: { sub: "s".repeat(255), jti: "j".repeat(128), payload } }));
    expect(result.ok).toBe(true);
  });

  it("compares sub byte-exact: no trimming or case folding", async () => {
    const result = await outcome(mintToken("acme", { claims: { sub: " Ada " } }));
    expect(result).toMatchObject({ ok: true, claims: { sub: " Ada " } });
  });

  it("email and name are optional", async () => {
    expect((await outcome(mintToken("acme", { omit: ["email", "name", "payload"] }))).ok).toBe(true);
  });
});

describe("time", () => {
  const at = (seconds: number) => seconds * 1000;

  it("lifetime: exactly the partner maximum passes, one second more is TOKEN_LIFETIME_TOO_LONG", async () => {
    expect((await outcome(mintToken("acme", { claims: { exp: NOW_S + 300 } }))).ok).toBe(true);
    await expectCode(mintToken("acme", { claims: { exp: NOW_S + 301 } }), "TOKEN_LIFETIME_TOO_LONG");
    await expectCode(mintToken("acme", { claims: { exp: NOW_S + 121 } }), "TOKEN_LIFETIME_TOO_LONG", { max: 120 });
  });

  it("exp: accepted up to 30 s after, expired at 31 s", async () => {
    const token = () => mintToken("acme");
    expect((await outcome(token(), { now: at(NOW_S + 300 + 30) })).ok).toBe(true);
    await expectCode(token(), "TOKEN_EXPIRED", { now: at(NOW_S + 300 + 31) });
  });

  it("iat in the future: 30 s tolerated, 31 s is TOKEN_NOT_YET_VALID", async () => {
    expect((await outcome(mintToken("acme", {}, NOW_S + 30))).ok).toBe(true);
    await expectCode(mintToken("acme", {}, NOW_S + 31), "TOKEN_NOT_YET_VALID");
  });

  it("nbf: 30 s tolerated, 31 s is TOKEN_NOT_YET_VALID", async () => {
    expect((await outcome(mintToken("acme", { claims: { nbf: NOW_S + 30 } }))).ok).toBe(true);
    await expectCode(mintToken("acme", { claims: { nbf: NOW_S + 31 } }), "TOKEN_NOT_YET_VALID");
  });
});
