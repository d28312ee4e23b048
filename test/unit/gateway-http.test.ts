/**
 * The HTTP contract, end to end through the local gateway (real node:http,
 * real handlers, in-memory stores, frozen clock).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { dpopKey, type TestDpopKey } from "../fixtures/dpop.ts";
import { partnerInput, testEnvironment } from "../fixtures/partners.ts";
import { mintToken, NOW, NOW_S, OTHER_SECRET, TEST_SECRET } from "../fixtures/tokens.ts";

const PARTNER_ORIGIN = "http://localhost:3000";
let gateway: RunningGateway;
const logLines: string[] = [];
const issuedTokens: string[] = [];
/** Every session credential and cookie value the gateway issued: none may reach a log. */
const issuedCookies: string[] = [];
let frameKey: TestDpopKey;

const config = testEnvironment([
  partnerInput("acme", { allowedOrigins: [PARTNER_ORIGIN, "https://acme.example"] }),
  partnerInput("globex", {
    allowedPaths: ["/dashboard", "/reports"],
    maxTokenLifetimeSeconds: 120,
    shell: { mode: "minimal", chat: false },
  }),
  partnerInput("initech", { enabled: false }),
]);

function token(partnerId = "acme", options: Parameters<typeof mintToken>[1] = {}) {
  const value = mintToken(partnerId, options);
  issuedTokens.push(value);
  return value;
}

const sessionUrl = (partnerId = "acme") => `${gateway.url}/embed/${partnerId}/session`;

/** A frame sign-in: POST with a DPoP proof of `frameKey` (`proof: null` sends none). */
async function postSession(
  body: unknown,
  options: { partnerId?: string; headers?: Record<string, string>; raw?: string; proof?: string | null } = {},
) {
  const url = sessionUrl(options.partnerId);
  const proof = options.proof === undefined ? await frameKey.proof("POST", url) : options.proof;
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(proof ? { dpop: proof } : {}), ...options.headers },
    body: options.raw ?? JSON.stringify(body),
  });
  const cookie = response.headers.get("set-cookie") ?? undefined;
  if (cookie) issuedCookies.push(cookie.split(";")[0]?.split("=")[1] ?? "");
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (typeof json?.session === "string") issuedCookies.push(json.session);
  return { status: response.status, headers: response.headers, cookie, json };
}

/** A request made with a frame session, as the workspace library makes it. */
async function withSession(method: string, credential: string, options: { partnerId?: string; key?: TestDpopKey; origin?: string } = {}) {
  const url = sessionUrl(options.partnerId);
  const headers = await (options.key ?? frameKey).headers(method, url, credential);
  const response = await fetch(url, { method, headers: { ...headers, ...(options.origin ? { origin: options.origin } : {}) } });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

const signInBody = (t: string, extra: Record<string, unknown> = {}) => ({ token: t, parentOrigin: PARTNER_ORIGIN, ...extra });

function cookieOf(setCookie: string | undefined): string {
  return (setCookie ?? "").split(";")[0] ?? "";
}

beforeAll(async () => {
  frameKey = await dpopKey(() => NOW);
  setLogSink((line) => logLines.push(line));
  gateway = await startGateway({
    config,
    secrets: { acme: TEST_SECRET, globex: TEST_SECRET, initech: TEST_SECRET },
    port: 0,
    clock: () => NOW,
  });
});

afterAll(async () => {
  await gateway.close();
  // Tokens, session ids and secrets never reach the logs, whatever happened above.
  const logs = logLines.join("\n");
  expect(logLines.length).toBeGreaterThan(50);
  for (const t of issuedTokens) expect(logs).not.toContain(t.split(".")[2]);
  for (const id of issuedCookies.filter(Boolean)) expect(logs).not.toContain(id);
  expect(logs).not.toContain(TEST_SECRET);
});

describe("GET /healthz", () => {
  it("answers 200", async () => {
    const response = await fetch(`${gateway.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
  });
});

describe("GET /embed/{partnerId}", () => {
  it("serves the bootstrap page framable by exactly the partner's origins", async () => {
    const response = await fetch(`${gateway.url}/embed/acme`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain(`frame-ancestors ${PARTNER_ORIGIN} https://acme.example`);
    expect(csp).not.toContain("unsafe-inline'; script"); // scripts by hash only
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("x-frame-options")).toBeNull();
  });

  it.each(["nobody", "NOPE", "a", "x".repeat(100), "%00"])("unknown partner %s: 404 that nobody may frame", async (id) => {
    const response = await fetch(`${gateway.url}/embed/${id}`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });
});

describe("POST /embed/{partnerId}/session", () => {
  it("first login creates the user and sends them to firstRunPath; later logins go to initialPath", async () => {
    const sub = `first-${randomUUID()}`;
    const first = await postSession(signInBody(token("acme", { claims: { sub } }), { initialPath: "/reports?y=2026" }));
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ redirectTo: "/embed/acme/app/onboarding/connect-accounts", firstRun: true });
    expect(first.json.session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.json.view).toMatchObject({
      user: { sub, name: "Ada Lovelace", email: "ada@example.com" },
      partner: { id: "acme" },
      expiresAt: new Date((NOW_S + 3600) * 1000).toISOString(),
      idleTimeoutSeconds: 1800,
    });
    // The frame keeps the session itself: no cookie on the iframe path.
    expect(first.cookie).toBeUndefined();

    const again = await postSession(
      signInBody(token("acme", { claims: { sub, email: "changed@example.com", name: "New Name" } }), { initialPath: "/reports?y=2026" }),
    );
    expect(again.json).toMatchObject({ redirectTo: "/embed/acme/app/reports?y=2026", firstRun: false });
    const none = await postSession(signInBody(token("acme", { claims: { sub } })));
    expect(none.json).toMatchObject({ redirectTo: "/embed/acme/app/", firstRun: false });

    const memory = gateway.memory!;
    const userId = await memory.identities.findUserId("acme", sub);
    const user = await memory.identities.getUser(userId!);
    expect(user).toMatchObject({ email: "ada@example.com", name: "Ada Lovelace" }); // last login had default name again
    expect(first.json.session).not.toBe(again.json.session);
  });

  it("keeps the first email and updates name and payload on later logins", async () => {
    const sub = `profile-${randomUUID()}`;
    await postSession(signInBody(token("acme", { claims: { sub, email: "first@example.com", name: "One", payload: { a: 1 } } })));
    await postSession(signInBody(token("acme", { claims: { sub, email: "second@example.com", name: "Two", payload: { b: 2 } } })));
    const memory = gateway.memory!;
    const user = await memory.identities.getUser((await memory.identities.findUserId("acme", sub))!);
    expect(user).toMatchObject({ email: "first@example.com", name: "Two", payload: { b: 2 } });
  });

  it("never links by email: two subs with one email are two users", async () => {
    const email = `shared-${randomUUID()}@example.com`;
    const a = await postSession(signInBody(token("acme", { claims: { sub: `a-${email}`, email } })));
    const b = await postSession(signInBody(token("acme", { claims: { sub: `b-${email}`, email } })));
    expect([a.json.firstRun, b.json.firstRun]).toEqual([true, true]);
  });

  it("maps sub byte-exact: 'Bob', 'bob' and 'bob ' are three users", async () => {
    const base = randomUUID();
    const results = [];
    for (const sub of [`Bob${base}`, `bob${base}`, `bob${base} `]) {
      results.push((await postSession(signInBody(token("acme", { claims: { sub } })))).json.firstRun);
    }
    expect(results).toEqual([true, true, true]);
  });

  it("honours shell/chat overrides only where the partner allows them", async () => {
    const sub = `shell-${randomUUID()}`;
    const res = await postSession(signInBody(token("acme", { claims: { sub } }), { shell: "full", chat: false }));
    const session = await resolveFrame(res.json.session);
    // acme allows mode overrides but not chat overrides.
    expect(session).toMatchObject({ shell: "full", chat: true, partnerId: "acme" });
  });

  const table: Array<[string, () => Promise<Awaited<ReturnType<typeof postSession>>>, number, string]> = [
    ["missing token", () => postSession({ parentOrigin: PARTNER_ORIGIN }), 400, "BAD_REQUEST"],
    ["token not a string", () => postSession({ token: 5, parentOrigin: PARTNER_ORIGIN }), 400, "BAD_REQUEST"],
    ["missing parentOrigin", () => postSession({ token: token() }), 400, "BAD_REQUEST"],
    ["body not JSON", () => postSession(null, { raw: "{nope" }), 400, "BAD_REQUEST"],
    ["body a JSON array", () => postSession([1]), 400, "BAD_REQUEST"],
    ["shell not an enum value", () => postSession(signInBody(token(), { shell: "huge" })), 400, "BAD_REQUEST"],
    ["chat not a boolean", () => postSession(signInBody(token(), { chat: "yes" })), 400, "BAD_REQUEST"],
    ["wrong content type", () => postSession(null, { raw: "token=x", headers: { "content-type": "text/plain" } }), 415, "UNSUPPORTED_MEDIA_TYPE"],
    ["malformed token", () => postSession(signInBody("a.b")), 400, "TOKEN_MALFORMED"],
    ["alg none", () => postSession(signInBody(token("acme", { header: { alg: "none" } }))), 400, "TOKEN_MALFORMED"],
    ["wrong secret", () => postSession(signInBody(token("acme", { secret: OTHER_SECRET }))), 401, "TOKEN_SIGNATURE_INVALID"],
    ["expired", () => postSession(signInBody(token("acme", { claims: { iat: NOW_S - 400, exp: NOW_S - 100 } }))), 401, "TOKEN_EXPIRED"],
    ["issued in the future", () => postSession(signInBody(token("acme", { claims: { iat: NOW_S + 100, exp: NOW_S + 200 } }))), 401, "TOKEN_NOT_YET_VALID"],
    ["lifetime too long", () => postSession(signInBody(token("acme", { claims: { exp: NOW_S + 301 } }))), 401, "TOKEN_LIFETIME_TOO_LONG"],
    ["claim invalid", () => postSession(signInBody(token("acme", { claims: { sub: "" } }))), 401, "TOKEN_CLAIM_INVALID"],
    ["issuer of another partner", () => postSession(signInBody(token("globex"))), 401, "TOKEN_ISSUER_MISMATCH"],
    ["audience", () => postSession(signInBody(token("acme", { claims: { aud: "other" } }))), 401, "TOKEN_AUDIENCE_MISMATCH"],
    ["parent origin not allowed", () => postSession({ token: token(), parentOrigin: "https://evil.example" }), 403, "ORIGIN_NOT_ALLOWED"],
    ["parent origin with a path", () => postSession({ token: token(), parentOrigin: `${PARTNER_ORIGIN}/` }), 403, "ORIGIN_NOT_ALLOWED"],
    ["request from a foreign page", () => postSession(signInBody(token()), { headers: { origin: "https://evil.example" } }), 403, "ORIGIN_NOT_ALLOWED"],
    ["path to another site", () => postSession(signInBody(token(), { initialPath: "//evil.example/x" })), 403, "PATH_NOT_ALLOWED"],
    ["path outside allowedPaths", () => postSession({ token: token("globex"), parentOrigin: PARTNER_ORIGIN, initialPath: "/admin" }, { partnerId: "globex" }), 403, "PATH_NOT_ALLOWED"],
    ["disabled partner", () => postSession(signInBody(token("initech")), { partnerId: "initech" }), 403, "PARTNER_DISABLED"],
    ["unknown partner", () => postSession(signInBody(token("nobody")), { partnerId: "nobody" }), 404, "PARTNER_NOT_FOUND"],
    ["body over 16 KB", () => postSession(signInBody("x".repeat(17_000))), 413, "PAYLOAD_TOO_LARGE"],
    ["no DPoP proof", () => postSession(signInBody(token()), { proof: null }), 401, "DPOP_PROOF_INVALID"],
    ["a DPoP proof for another URL", async () => postSession(signInBody(token()), { proof: await frameKey.proof("POST", sessionUrl("globex")) }), 401, "DPOP_PROOF_INVALID"],
    ["a stale DPoP proof", async () => postSession(signInBody(token()), { proof: await frameKey.proof("POST", sessionUrl(), { iat: NOW_S - 600 }) }), 401, "DPOP_PROOF_INVALID"],
    ["token over 8 KB", () => postSession(signInBody(`${"a".repeat(8200)}.b.c`)), 413, "PAYLOAD_TOO_LARGE"],
  ];

  it.each(table)("%s -> %i %s, and no session", async (_name, send, status, code) => {
    const result = await send();
    expect(result.status).toBe(status);
    expect(result.json.error.code).toBe(code);
    expect(typeof result.json.error.message).toBe("string");
    expect(result.cookie).toBeUndefined();
    expect(result.json.session).toBeUndefined();
  });

  it("a sign-in without a valid proof does not spend the token", async () => {
    const t = token();
    expect((await postSession(signInBody(t), { proof: null })).status).toBe(401);
    expect((await postSession(signInBody(t))).status).toBe(200);
  });

  it("TOKEN_REPLAYED for a second use of one token", async () => {
    const once = token();
    expect((await postSession(signInBody(once))).status).toBe(200);
    const twice = await postSession(signInBody(once));
    expect([twice.status, twice.json.error.code]).toEqual([401, "TOKEN_REPLAYED"]);
  });

  it("a refused request changes nothing: the same token still works after a bad path", async () => {
    const sub = `unchanged-${randomUUID()}`;
    const t = token("acme", { claims: { sub } });
    expect((await postSession(signInBody(t, { initialPath: "javascript:alert(1)" }))).status).toBe(403);
    expect(await gateway.memory!.identities.findUserId("acme", sub)).toBeUndefined();
    const ok = await postSession(signInBody(t));
    expect([ok.status, ok.json.firstRun]).toEqual([200, true]);
  });

  it("405 for other methods", async () => {
    const response = await fetch(`${gateway.url}/embed/acme/session`, { method: "PUT" });
    expect(response.status).toBe(405);
  });

  it("garbage never produces a 5xx", async () => {
    const bodies = ["", "null", "[]", '{"token":{}}', '{"token":"..."}', '{"token":"a.b.c","parentOrigin":7}', "\u0000", "{".repeat(5000)];
    for (const raw of bodies) {
      const result = await postSession(null, { raw });
      expect(result.status, raw.slice(0, 20)).toBeGreaterThanOrEqual(400);
      expect(result.status, raw.slice(0, 20)).toBeLessThan(500);
    }
  });
});

describe("concurrency", () => {
  it("50 concurrent first logins for one sub produce exactly one user", async () => {
    const sub = `race-${randomUUID()}`;
    const before = gateway.memory!.identities.userCount;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => postSession(signInBody(token("acme", { claims: { sub } })))),
    );
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(results.filter((r) => r.json.firstRun).length).toBe(1);
    expect(gateway.memory!.identities.userCount - before).toBe(1);
  });

  it("50 concurrent submits of one jti: exactly one success", async () => {
    const shared = token();
    const results = await Promise.all(Array.from({ length: 50 }, () => postSession(signInBody(shared))));
    expect(results.filter((r) => r.status === 200).length).toBe(1);
    expect(results.filter((r) => r.json?.error?.code === "TOKEN_REPLAYED").length).toBe(49);
  });
});

describe("GET and DELETE /embed/{partnerId}/session (frame session, DPoP)", () => {
  it("GET answers the view of the session's user; DELETE signs out", async () => {
    const signedIn = await postSession(signInBody(token("acme", { claims: { sub: `view-${randomUUID()}`, name: "Grace Hopper" } })));
    const credential: string = signedIn.json.session;
    const view = await withSession("GET", credential);
    expect(view.status).toBe(200);
    expect(view.json.view).toEqual(signedIn.json.view);
    expect(JSON.stringify(view.json)).not.toContain(credential);

    const out = await withSession("DELETE", credential, { origin: gateway.url });
    expect(out.status).toBe(204);
    const after = await withSession("GET", credential);
    expect([after.status, after.json.error.code]).toEqual([401, "SESSION_REQUIRED"]);
  });

  it("the credential is useless without its key, for another partner, or with a replayed proof", async () => {
    const credential: string = (await postSession(signInBody(token()))).json.session;
    const thief = await dpopKey(() => NOW);
    const stolen = await withSession("GET", credential, { key: thief });
    expect([stolen.status, stolen.json.error.code]).toEqual([401, "DPOP_PROOF_INVALID"]);
    const bare = await fetch(sessionUrl(), { headers: { authorization: `DPoP ${credential}` } });
    expect(bare.status).toBe(401);
    const asCookie = await fetch(sessionUrl(), { headers: { cookie: `jupid_session=${credential}` } });
    expect(asCookie.status).toBe(401);
    const otherPartner = await withSession("GET", credential, { partnerId: "globex" });
    expect([otherPartner.status, otherPartner.json.error.code]).toEqual([401, "SESSION_REQUIRED"]);

    const headers = await frameKey.headers("GET", sessionUrl(), credential);
    expect((await fetch(sessionUrl(), { headers })).status).toBe(200);
    const replayed = await fetch(sessionUrl(), { headers });
    expect([replayed.status, (await replayed.json()).error.code]).toEqual([401, "DPOP_PROOF_REPLAYED"]);
  });

  it("DELETE follows the sign-in's origin rule and ends only a session of the partner in the path", async () => {
    const credential: string = (await postSession(signInBody(token()))).json.session;
    const foreign = await withSession("DELETE", credential, { origin: "https://evil.example" });
    expect([foreign.status, foreign.json.error.code]).toEqual([403, "ORIGIN_NOT_ALLOWED"]);
    const unknown = await withSession("DELETE", credential, { partnerId: "nobody", origin: gateway.url });
    expect([unknown.status, unknown.json.error.code]).toEqual([404, "PARTNER_NOT_FOUND"]);
    const other = await withSession("DELETE", credential, { partnerId: "globex", origin: gateway.url });
    expect(other.status).toBe(401);
    expect((await withSession("GET", credential)).status).toBe(200);
  });

  it("a revoked partner's frame sessions end at once (the session epoch)", async () => {
    const credential: string = (await postSession(signInBody(token()))).json.session;
    expect((await withSession("GET", credential)).status).toBe(200);
    await gateway.memory!.partners.revokeSessions("acme");
    const after = await withSession("GET", credential);
    expect([after.status, after.json.error.code]).toEqual([401, "SESSION_REQUIRED"]);
    // A sign-in after the revocation works as before.
    const fresh: string = (await postSession(signInBody(token()))).json.session;
    expect((await withSession("GET", fresh)).status).toBe(200);
  });

  it("a forged or malformed credential is just no session", async () => {
    for (const credential of ["abc", "A".repeat(43), "%00"]) {
      expect((await withSession("GET", credential)).status).toBe(401);
    }
  });
});

describe("GET /embed/{partnerId}/app/* (framed workspace shell)", () => {
  it("is public, carries no user data, and is framable by exactly the partner's origins", async () => {
    const response = await fetch(`${gateway.url}/embed/acme/app/reports/2026`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toContain(`frame-ancestors ${PARTNER_ORIGIN} https://acme.example`);
    const page = await response.text();
    expect(page).toContain('"basePath":"/embed/acme/app"');
    expect(page).toContain("<h1>/reports/2026</h1>");
    expect(page).not.toContain("usr_");
  });

  it("unknown partner: 404 that nobody may frame", async () => {
    const response = await fetch(`${gateway.url}/embed/nobody/app/`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });
});

describe("/partner/{partnerId}/enter (redirect integration)", () => {
  it("GET without a token serves the fragment-reading page", async () => {
    const response = await fetch(`${gateway.url}/partner/acme/enter`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(await response.text()).toContain("<form");
  });

  it("GET with ?token= signs in and 303s to a URL without the token", async () => {
    const t = token("acme", { claims: { sub: `get-enter-${randomUUID()}` } });
    // Opened from the partner's page: the Referer's origin is one of its origins (issue 12: login CSRF).
    const response = await fetch(`${gateway.url}/partner/acme/enter?token=${t}&path=/reports`, {
      redirect: "manual",
      headers: { referer: `${PARTNER_ORIGIN}/books` },
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/app/onboarding/connect-accounts");
    expect(response.headers.get("location")).not.toContain(t.split(".")[2]);
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("set-cookie")).toMatch(/^jupid_session=/);
  });

  it("POST form signs in (existing user -> requested path)", async () => {
    const sub = `enter-${randomUUID()}`;
    await postSession(signInBody(token("acme", { claims: { sub } })));
    const response = await fetch(`${gateway.url}/partner/acme/enter`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: PARTNER_ORIGIN },
      body: new URLSearchParams({ token: token("acme", { claims: { sub } }), path: "/reports" }),
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/app/reports");
  });

  it("POST from a foreign origin is refused, as an HTML page for browsers", async () => {
    const response = await fetch(`${gateway.url}/partner/acme/enter`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example", accept: "text/html" },
      body: new URLSearchParams({ token: token() }),
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("ORIGIN_NOT_ALLOWED");
  });

  it("an expired token on the redirect path is a 401 with its code", async () => {
    const t = token("acme", { claims: { iat: NOW_S - 400, exp: NOW_S - 100 } });
    const response = await fetch(`${gateway.url}/partner/acme/enter?token=${t}`, { redirect: "manual" });
    expect(response.status).toBe(401);
    expect((await response.json()).error.code).toBe("TOKEN_EXPIRED");
  });
});

async function internal(path: string, init: RequestInit = {}, key = gateway.internalKey) {
  const response = await fetch(`${gateway.url}${path}`, {
    ...init,
    headers: { "content-type": "application/json", "x-jupid-internal-key": key, ...(init.headers as Record<string, string>) },
  });
  return { status: response.status, json: await response.json() };
}

async function resolve(sessionId: string) {
  return (await internal("/internal/sessions/resolve", { method: "POST", body: JSON.stringify({ sessionId }) })).json;
}

/** What the Jupid app's backend does with a frame request: forward credential, proof, method and URL. */
async function resolveFrame(credential: string, key: TestDpopKey = frameKey) {
  const url = `${gateway.url}/api/reports`;
  const proof = await key.proof("GET", url, { credential });
  return (await internal("/internal/sessions/resolve", { method: "POST", body: JSON.stringify({ credential, proof, method: "GET", url }) }))
    .json;
}

describe("/internal/*", () => {
  it("refuses callers without the key", async () => {
    const result = await internal("/internal/sessions/resolve", { method: "POST", body: "{}" }, "wrong");
    expect([result.status, result.json.error.code]).toEqual([401, "UNAUTHORIZED"]);
  });

  it("resolves a frame session (credential + proof) and counts usage against the free limit", async () => {
    const signedIn = await postSession(signInBody(token()));
    const session = await resolveFrame(signedIn.json.session);
    expect(session).toMatchObject({ partnerId: "acme", shell: "embedded", chat: true, branding: { displayName: "Brand acme" } });
    expect(session.userId).toMatch(/^usr_[a-f0-9]{32}$/);

    const use = (amount?: number) =>
      internal("/internal/usage", { method: "POST", body: JSON.stringify({ userId: session.userId, metric: "transactions", amount }) });
    expect((await use()).json).toEqual({ metric: "transactions", used: 1, limit: 3, remaining: 2, paywall: false });
    expect((await use(2)).json).toMatchObject({ used: 3, remaining: 0, paywall: true });
    const read = await internal(`/internal/entitlements/${session.userId}?metric=transactions`);
    expect(read.json).toMatchObject({ used: 3, paywall: true });
  });

  it("a frame credential resolves only with a proof of its key", async () => {
    const credential: string = (await postSession(signInBody(token()))).json.session;
    const bare = await internal("/internal/sessions/resolve", { method: "POST", body: JSON.stringify({ sessionId: credential }) });
    expect([bare.status, bare.json.error.code]).toEqual([401, "DPOP_PROOF_INVALID"]);
    expect((await resolveFrame(credential, await dpopKey(() => NOW))).error.code).toBe("DPOP_PROOF_INVALID");
    const noUrl = await internal("/internal/sessions/resolve", { method: "POST", body: JSON.stringify({ credential, proof: "x" }) });
    expect(noUrl.status).toBe(400);
  });

  it("resolves a top-level cookie session by its id", async () => {
    const response = await enterWithToken(token("acme", { claims: { sub: `cookie-${randomUUID()}` } }));
    const session = await resolve(cookieOf(response.headers.get("set-cookie") ?? "").split("=")[1]!);
    expect(session).toMatchObject({ partnerId: "acme" });
  });

  it("4xx for bad internal input", async () => {
    const missing = await internal("/internal/sessions/resolve", { method: "POST", body: JSON.stringify({ sessionId: "A".repeat(43) }) });
    expect([missing.status, missing.json.error.code]).toEqual([401, "SESSION_REQUIRED"]);
    const badUser = await internal("/internal/usage", { method: "POST", body: JSON.stringify({ userId: "x" }) });
    expect(badUser.status).toBe(400);
    const unknownUser = await internal(`/internal/entitlements/usr_${"0".repeat(32)}`);
    expect(unknownUser.status).toBe(404);
  });

  it("refuses a metric the partner does not count, and bad amounts", async () => {
    const signedIn = await postSession(signInBody(token()));
    const { userId } = await resolveFrame(signedIn.json.session);
    for (const body of [{ userId, metric: "reports" }, { userId, amount: 0 }, { userId, amount: 1.5 }, { userId, amount: "1" }]) {
      expect((await internal("/internal/usage", { method: "POST", body: JSON.stringify(body) })).status).toBe(400);
    }
  });
});

async function enterWithToken(t: string, path = "/reports/2026") {
  // Opened from the partner's page (its Referer): the redirect entry signs in at once.
  const response = await fetch(`${gateway.url}/partner/acme/enter?token=${t}&path=${path}`, {
    redirect: "manual",
    headers: { referer: `${PARTNER_ORIGIN}/app` },
  });
  const cookie = response.headers.get("set-cookie");
  if (cookie) issuedCookies.push(cookieOf(cookie).split("=")[1] ?? "");
  return response;
}

describe("GET /app/* (stub workspace, top level)", () => {
  it("shows the signed-in user, partner and path from the first-party cookie, and is never framed", async () => {
    const sub = `top-${randomUUID()}`;
    await postSession(signInBody(token("acme", { claims: { sub } })));
    const entered = await enterWithToken(token("acme", { claims: { sub, name: "Grace Hopper" } }));
    expect(entered.headers.get("set-cookie")).toMatch(/^jupid_session=[A-Za-z0-9_-]{43}; Max-Age=3600; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    const response = await fetch(`${gateway.url}/app/reports/2026`, { headers: { cookie: cookieOf(entered.headers.get("set-cookie") ?? "") } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const page = await response.text();
    expect(page).toContain("Grace Hopper");
    expect(page).toContain("/reports/2026");
    expect(page).toContain("acme");
  });

  it("without a session answers 401", async () => {
    expect((await fetch(`${gateway.url}/app/`)).status).toBe(401);
  });
});
