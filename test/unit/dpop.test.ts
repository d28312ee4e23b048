/**
 * DPoP proof rules (lambdas/core/dpop.ts) and the frame-session check built on
 * them (authenticateFrameRequest): under a frozen clock, with boundary pairs.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PROOF_MAX_AGE_SECONDS, PROOF_MAX_SKEW_SECONDS, verifyProof } from "../../lambdas/core/dpop.ts";
import { authenticateFrameRequest, hashSessionId } from "../../lambdas/core/sessions.ts";
import { MemoryReplayGuard, MemorySessionStore } from "../../lambdas/adapters/memory/index.ts";
import { dpopKey } from "../fixtures/dpop.ts";
import { NOW, NOW_S } from "../fixtures/tokens.ts";

const URL_ = "https://app.jupid.test/embed/acme/session";
const clock = () => NOW;

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe("verifyProof", () => {
  it("accepts a fresh proof for this method and URL and returns the key's thumbprint", async () => {
    const key = await dpopKey(clock);
    const result = await verifyProof({ proof: await key.proof("POST", URL_), method: "POST", url: URL_, now: NOW });
    expect(result.jkt).toBe(key.jkt);
    expect(result.replayWindowEnd).toBe(NOW_S + PROOF_MAX_AGE_SECONDS + PROOF_MAX_SKEW_SECONDS);
  });

  it("ignores query and fragment of htu, as RFC 9449 says", async () => {
    const key = await dpopKey(clock);
    const proof = await key.proof("GET", `${URL_}?a=1#x`);
    await expect(verifyProof({ proof, method: "GET", url: `${URL_}?b=2`, now: NOW })).resolves.toMatchObject({ jkt: key.jkt });
  });

  it("iat: just inside and just outside the window", async () => {
    const key = await dpopKey(clock);
    const at = async (iat: number) => code(verifyProof({ proof: await key.proof("GET", URL_, { iat }), method: "GET", url: URL_, now: NOW }));
    expect(await at(NOW_S - PROOF_MAX_AGE_SECONDS)).toBeUndefined();
    expect(await at(NOW_S - PROOF_MAX_AGE_SECONDS - 1)).toBe("DPOP_PROOF_INVALID");
    expect(await at(NOW_S + PROOF_MAX_SKEW_SECONDS)).toBeUndefined();
    expect(await at(NOW_S + PROOF_MAX_SKEW_SECONDS + 1)).toBe("DPOP_PROOF_INVALID");
  });

  const refused: Array<[string, (key: Awaited<ReturnType<typeof dpopKey>>) => Promise<unknown>]> = [
    ["missing", async () => undefined],
    ["not a string", async () => 42],
    ["not a JWS", async () => "a.b.c"],
    ["too long", async () => "a".repeat(3000)],
    ["another method", (k) => k.proof("DELETE", URL_)],
    ["another URL", (k) => k.proof("GET", "https://app.jupid.test/embed/other/session")],
    ["another origin", (k) => k.proof("GET", "https://evil.test/embed/acme/session")],
    ["typ JWT", (k) => k.proof("GET", URL_, { header: { typ: "JWT" } })],
    ["no jti", (k) => k.proof("GET", URL_, { claims: { jti: undefined } })],
    ["short jti", (k) => k.proof("GET", URL_, { jti: "abc" })],
    ["no iat", (k) => k.proof("GET", URL_, { claims: { iat: undefined } })],
    ["a private key in the header", (k) => k.proof("GET", URL_, { header: { jwk: { ...k.jwk, d: "AAAA" } } })],
    ["an RSA key claimed", (k) => k.proof("GET", URL_, { header: { jwk: { kty: "RSA", n: "AQAB", e: "AQAB" } } })],
    [
      "a forged signature",
      async (k) => {
        const [h, p] = (await k.proof("GET", URL_)).split(".");
        return `${h}.${p}.${randomBytes(64).toString("base64url")}`;
      },
    ],
    [
      "someone else's key in the header (signature no longer matches)",
      async (k) => {
        const other = await dpopKey(clock);
        const [, p, s] = (await k.proof("GET", URL_)).split(".");
        const header = Buffer.from(JSON.stringify({ typ: "dpop+jwt", alg: "ES256", jwk: other.jwk })).toString("base64url");
        return `${header}.${p}.${s}`;
      },
    ],
  ];
  it.each(refused)("refuses a proof: %s", async (_name, make) => {
    const key = await dpopKey(clock);
    expect(await code(verifyProof({ proof: await make(key), method: "GET", url: URL_, now: NOW }))).toBe("DPOP_PROOF_INVALID");
  });

  it("refuses a proof whose ath is for another credential, or that has none", async () => {
    const key = await dpopKey(clock);
    const credential = randomBytes(32).toString("base64url");
    const other = await key.proof("GET", URL_, { credential: randomBytes(32).toString("base64url") });
    expect(await code(verifyProof({ proof: other, method: "GET", url: URL_, now: NOW, credential }))).toBe("DPOP_PROOF_INVALID");
    const none = await key.proof("GET", URL_);
    expect(await code(verifyProof({ proof: none, method: "GET", url: URL_, now: NOW, credential }))).toBe("DPOP_PROOF_INVALID");
  });
});

describe("authenticateFrameRequest", () => {
  const settings = { sessionIdleTimeoutSeconds: 1800 };

  async function world(overrides: { jkt?: string | null; lastSeenAt?: number } = {}) {
    const key = await dpopKey(clock);
    const credential = randomBytes(32).toString("base64url");
    const sessions = new MemorySessionStore();
    const replay = new MemoryReplayGuard(clock);
    const jkt = overrides.jkt === null ? undefined : (overrides.jkt ?? key.jkt);
    await sessions.put({
      idHash: hashSessionId(credential),
      userId: "usr_1",
      partnerId: "acme",
      shell: "embedded",
      chat: true,
      createdAt: NOW_S - 10,
      expiresAt: NOW_S + 3600,
      lastSeenAt: overrides.lastSeenAt ?? NOW_S - 10,
      epoch: 0,
      ...(jkt ? { jkt } : {}),
    });
    const deps = { sessions, replay, clock };
    const call = async (headers: Record<string, string>) =>
      authenticateFrameRequest(deps, settings, { authorization: headers.authorization, proof: headers.dpop, method: "GET", url: URL_ });
    return { key, credential, sessions, call };
  }

  it("accepts the session's own key, once per proof", async () => {
    const { key, credential, call } = await world();
    const headers = await key.headers("GET", URL_, credential);
    await expect(call(headers)).resolves.toMatchObject({ userId: "usr_1", jkt: key.jkt });
    expect(await code(call(headers))).toBe("DPOP_PROOF_REPLAYED");
    await expect(call(await key.headers("GET", URL_, credential))).resolves.toMatchObject({ userId: "usr_1" });
  });

  it("a credential without its key is useless: another key's valid proof is refused", async () => {
    const { credential, call } = await world();
    const thief = await dpopKey(clock);
    expect(await code(call(await thief.headers("GET", URL_, credential)))).toBe("DPOP_PROOF_INVALID");
  });

  it("a credential alone, or a proof alone, is refused", async () => {
    const { key, credential, call } = await world();
    expect(await code(call({ authorization: `DPoP ${credential}` }))).toBe("DPOP_PROOF_INVALID");
    expect(await code(call({ dpop: await key.proof("GET", URL_) }))).toBe("SESSION_REQUIRED");
    expect(await code(call({ authorization: `Bearer ${credential}`, dpop: await key.proof("GET", URL_, { credential }) }))).toBe(
      "SESSION_REQUIRED",
    );
  });

  it("a cookie session (not bound to a key) is no frame session", async () => {
    const { key, credential, call } = await world({ jkt: null });
    expect(await code(call(await key.headers("GET", URL_, credential)))).toBe("SESSION_REQUIRED");
  });

  it("idle timeout: just inside and just outside; a use restarts the idle timer", async () => {
    const inside = await world({ lastSeenAt: NOW_S - 1799 });
    await expect(inside.call(await inside.key.headers("GET", URL_, inside.credential))).resolves.toMatchObject({ lastSeenAt: NOW_S });
    expect((await inside.sessions.get(hashSessionId(inside.credential), NOW))?.lastSeenAt).toBe(NOW_S);
    const outside = await world({ lastSeenAt: NOW_S - 1800 });
    expect(await code(outside.call(await outside.key.headers("GET", URL_, outside.credential)))).toBe("SESSION_REQUIRED");
  });

  it("a refused request changes nothing: its proof's jti is not spent", async () => {
    const { key, credential, call } = await world();
    const jti = randomBytes(16).toString("base64url");
    expect(await code(call(await key.headers("GET", URL_, randomBytes(32).toString("base64url"), { jti })))).toBe("SESSION_REQUIRED");
    await expect(call(await key.headers("GET", URL_, credential, { jti }))).resolves.toMatchObject({ userId: "usr_1" });
  });
});
