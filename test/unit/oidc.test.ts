/**
 * The OIDC entrypoint against a real OpenID provider (panva's oidc-provider
 * on 127.0.0.1), through the local gateway: every validation rule has a
 * failing case, and the provider's HTTP goes through a counting, optionally
 * tampering fetch so metadata/JWKS caching and bad ID tokens can be tested.
 */
import { postFrameSignIn } from "../fixtures/dpop.ts";
import { createHash } from "node:crypto";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseEnvironmentConfig, partnerSchema } from "../../config/schema.ts";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { partnerInput, testEnvironment } from "../fixtures/partners.ts";
import { mintToken, TEST_SECRET } from "../fixtures/tokens.ts";
import { startTestProvider, TestBrowser, type TestProvider } from "../support/oidc-provider.ts";

const SHARED = "acme"; // subjects shared with the token path, PAR, client_secret_basic
const SEPARATE = "globex"; // separate subject space, no PAR, client_secret_post, allowedPaths
const FIRST_RUN = "/onboarding/connect-accounts";

/** Counts provider requests by path and can rewrite the ID token of token responses. */
class ProviderSpy {
  readonly counts = new Map<string, number>();
  rewriteIdToken: ((idToken: string) => Promise<string>) | undefined;
  readonly fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const { pathname } = new URL(url);
    this.counts.set(pathname, (this.counts.get(pathname) ?? 0) + 1);
    const response = await fetch(url, init);
    if (!this.rewriteIdToken || !pathname.endsWith("/token") || response.status !== 200) return response;
    const body = (await response.json()) as Record<string, unknown>;
    body.id_token = await this.rewriteIdToken(body.id_token as string);
    return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
  };
  count(suffix: string): number {
    let total = 0;
    for (const [path, n] of this.counts) if (path.endsWith(suffix)) total += n;
    return total;
  }
}

let gateway: RunningGateway;
let shared: TestProvider;
let separate: TestProvider;
const spy = new ProviderSpy();
let clockOffset = 0;
const logLines: string[] = [];

beforeAll(async () => {
  setLogSink((line) => logLines.push(line));
  gateway = await startGateway({
    config: testEnvironment([partnerInput(SHARED), partnerInput(SEPARATE), partnerInput("plain")]),
    secrets: { [SHARED]: TEST_SECRET, [SEPARATE]: TEST_SECRET, plain: TEST_SECRET },
    port: 0,
    clock: () => Date.now() + clockOffset,
    providerFetch: spy.fetch,
  });
  [shared, separate] = await Promise.all([
    startTestProvider({ appUrl: gateway.url, partnerId: SHARED, accounts: { alice: { email: "alice@acme.example", name: "Alice" } } }),
    startTestProvider({ appUrl: gateway.url, partnerId: SEPARATE, par: false, tokenEndpointAuthMethod: "client_secret_post" }),
  ]);
  const memory = gateway.memory;
  if (!memory) throw new Error("expected in-memory ports");
  memory.partners.set(
    partnerSchema.parse({ ...partnerInput(SHARED), oidc: { issuer: shared.issuer, clientId: shared.clientId, subjects: "shared" } }),
  );
  memory.partners.set(
    partnerSchema.parse({
      ...partnerInput(SEPARATE, { allowedPaths: ["/dashboard", "/reports", "/onboarding"] }),
      oidc: { issuer: separate.issuer, clientId: separate.clientId, clientAuth: "client_secret_post", maxAgeSeconds: 3600 },
    }),
  );
  memory.secrets.setOidcClientSecret(SHARED, shared.clientSecret);
  memory.secrets.setOidcClientSecret(SEPARATE, separate.clientSecret);
}, 30_000);

afterAll(async () => {
  await Promise.all([gateway?.close(), shared?.close(), separate?.close()]);
  const logs = logLines.join("\n");
  expect(logs).not.toContain(shared.clientSecret);
  expect(logs).not.toContain(separate.clientSecret);
  expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\./); // no JWT of any kind
});

beforeEach(() => {
  spy.rewriteIdToken = undefined;
  clockOffset = 0;
});

function providerOf(partnerId: string): TestProvider {
  return partnerId === SHARED ? shared : separate;
}

function loginUrl(partnerId: string, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  const all = { iss: providerOf(partnerId).issuer, ...params };
  for (const [name, value] of Object.entries(all)) if (value !== undefined) query.set(name, value);
  return `${gateway.url}/partner/${partnerId}/oidc/login?${query}`;
}

/** Initiation -> provider (scripted login) -> the callback URL the provider sends the browser to (not yet requested). */
async function throughProvider(browser: TestBrowser, partnerId: string, account: string, params: Record<string, string | undefined> = {}) {
  providerOf(partnerId).nextLogin = account;
  const start = await browser.request(loginUrl(partnerId, params));
  expect(start.status, await start.clone().text()).toBe(303);
  const authorize = start.headers.get("location") as string;
  const { url } = await browser.navigate(authorize, {}, (next) => next.origin === gateway.url);
  expect(url.startsWith(`${gateway.url}/partner/${partnerId}/oidc/callback?`), url).toBe(true);
  return { callback: url, authorize };
}

async function callback(browser: TestBrowser, url: string, accept = "application/json") {
  const response = await browser.request(url, { headers: { accept } });
  const text = await response.text();
  return { status: response.status, location: response.headers.get("location"), text, json: safeJson(text), headers: response.headers };
}

function safeJson(text: string): { error?: { code: string; claim?: string } } | undefined {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function signInThroughOidc(partnerId: string, account: string, params: Record<string, string | undefined> = {}) {
  const browser = new TestBrowser();
  const { callback: url } = await throughProvider(browser, partnerId, account, params);
  const result = await callback(browser, url);
  expect(result.status, result.text).toBe(303);
  return { browser, location: result.location as string, sessionId: browser.cookie(gateway.url, "jupid_session") as string };
}

async function sessionOf(sessionId: string) {
  const hash = createHash("sha256").update(sessionId).digest("hex");
  return gateway.runtime.deps.sessions.get(hash, Date.now());
}

/** A genuine ID token's claims, changed, re-signed with the provider's own key (or another). */
function resign(provider: TestProvider, change: (claims: Record<string, unknown>) => Record<string, unknown>, options: Parameters<TestProvider["sign"]>[1] = {}) {
  return async (idToken: string) => provider.sign(change({ ...decodeJwt(idToken) }), options);
}

describe("configuration", () => {
  const env = (environment: string, issuer: string, extra: Record<string, unknown> = {}) => ({
    environment,
    appUrl: environment === "production" ? "https://app.jupid.com" : "http://127.0.0.1:4000",
    partners: [{ ...partnerInput("acme", environment === "production" ? { allowedOrigins: ["https://acme.example"] } : {}), oidc: { issuer, clientId: "jupid", ...extra } }],
  });

  it("accepts an https issuer everywhere and a loopback http issuer in local and integration", () => {
    expect(parseEnvironmentConfig(env("production", "https://id.acme.example"), "f").partners[0]?.oidc).toMatchObject({
      scopes: ["openid", "email", "profile"],
      clientAuth: "client_secret_basic",
      subjects: "separate",
    });
    expect(() => parseEnvironmentConfig(env("local", "http://127.0.0.1:9000"), "f")).not.toThrow();
    expect(() => parseEnvironmentConfig(env("integration", "http://localhost:9000"), "f")).not.toThrow();
  });

  it.each([
    ["staging", "http://127.0.0.1:9000", /must be https/],
    ["production", "http://id.acme.example", /must be https/],
    ["local", "http://id.acme.example", /must be https/],
    ["staging", "https://id.acme.example/?tenant=1", /query or fragment/],
  ])("refuses the issuer in %s: %s", (environment, issuer, message) => {
    expect(() => parseEnvironmentConfig(env(environment, issuer), "f")).toThrow(message);
  });

  it("names the field when scopes lack openid or clientAuth is unknown", () => {
    expect(() => parseEnvironmentConfig(env("local", "http://127.0.0.1:1", { scopes: ["email"] }), "f")).toThrow(/oidc.scopes: must include openid/);
    expect(() => parseEnvironmentConfig(env("local", "http://127.0.0.1:1", { clientAuth: "none" }), "f")).toThrow(/oidc.clientAuth/);
  });
});

describe("login initiation", () => {
  it("starts a code flow with PAR when the provider advertises it: the browser carries only a request_uri", async () => {
    const response = await new TestBrowser().request(loginUrl(SHARED, { login_hint: "alice" }));
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get("location") as string);
    expect(location.origin).toBe(shared.issuer);
    expect([...location.searchParams.keys()].sort()).toEqual(["client_id", "request_uri"]);
    const cookie = response.headers.get("set-cookie") as string;
    expect(cookie).toMatch(/^jupid_oidc_acme=[A-Za-z0-9_-]+; Max-Age=600; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("without PAR sends state, nonce, PKCE S256, max_age and the forwarded login_hint in the URL", async () => {
    const response = await new TestBrowser().request(loginUrl(SEPARATE, { login_hint: "bob@globex.example" }));
    const params = new URL(response.headers.get("location") as string).searchParams;
    expect(Object.fromEntries(params)).toMatchObject({
      client_id: separate.clientId,
      response_type: "code",
      scope: "openid email profile",
      code_challenge_method: "S256",
      login_hint: "bob@globex.example",
      max_age: "3600",
      redirect_uri: `${gateway.url}/partner/${SEPARATE}/oidc/callback`,
    });
    expect(params.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get("nonce")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    ["missing", undefined],
    ["another issuer", "https://evil.example"],
    ["the issuer with a trailing slash", "TRAILING"],
  ])("refuses iss %s with OIDC_ISSUER_MISMATCH and sets no cookie", async (_label, iss) => {
    const value = iss === "TRAILING" ? `${shared.issuer}/` : iss;
    const url = `${gateway.url}/partner/${SHARED}/oidc/login${value === undefined ? "" : `?iss=${encodeURIComponent(value)}`}`;
    const response = await fetch(url, { redirect: "manual" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("OIDC_ISSUER_MISMATCH");
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  it.each([
    "https://evil.example/app/dashboard",
    "//evil.example/x",
    "http://127.0.0.1:1/app/dashboard",
    "/app/../../admin\\x",
    "javascript:alert(1)",
  ])("refuses target_link_uri %s (PATH_NOT_ALLOWED)", async (target) => {
    const response = await fetch(loginUrl(SHARED, { target_link_uri: target }), { redirect: "manual" });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("PATH_NOT_ALLOWED");
  });

  it("refuses a target outside the partner's allowedPaths", async () => {
    const response = await fetch(loginUrl(SEPARATE, { target_link_uri: `${gateway.url}/app/admin` }), { redirect: "manual" });
    expect(response.status).toBe(403);
  });

  it("refuses a parameter sent twice (RFC 6749 §3.1) rather than picking one", async () => {
    const url = `${loginUrl(SHARED, { target_link_uri: "/dashboard" })}&target_link_uri=${encodeURIComponent("https://evil.example/")}`;
    const response = await fetch(url, { redirect: "manual" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
  });

  it("accepts a form POST initiation (OIDC Core §4)", async () => {
    const response = await fetch(`${gateway.url}/partner/${SEPARATE}/oidc/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ iss: separate.issuer, target_link_uri: "/reports/q3" }),
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toContain(separate.issuer);
  });

  it("answers OIDC_NOT_CONFIGURED for a partner without a provider, PARTNER_NOT_FOUND for no partner", async () => {
    const plain = await fetch(`${gateway.url}/partner/plain/oidc/login?iss=x`, { headers: { accept: "text/html" } });
    expect(plain.status).toBe(404);
    expect(await plain.text()).toContain("OIDC_NOT_CONFIGURED");
    expect((await fetch(`${gateway.url}/partner/nobody/oidc/login?iss=x`)).status).toBe(404);
  });
});

describe("callback", () => {
  it("signs a new user in, sends them to firstRunPath, clears the transaction cookie; a returning user goes to the target", async () => {
    const first = await signInThroughOidc(SHARED, "alice", { target_link_uri: "/dashboard" });
    expect(first.location).toBe(`/app${FIRST_RUN}`);
    expect(first.browser.cookie(gateway.url, "jupid_oidc_acme")).toBeUndefined();
    const session = await sessionOf(first.sessionId);
    expect(session).toMatchObject({ partnerId: SHARED, shell: "embedded", chat: true });
    const user = await gateway.runtime.deps.identities.getUser(session?.userId as string);
    expect(user).toMatchObject({ partnerId: SHARED, sub: "alice", email: "alice@acme.example", name: "Alice" });

    const workspace = await first.browser.request(`${gateway.url}${first.location}`);
    expect(workspace.status).toBe(200);

    const again = await signInThroughOidc(SHARED, "alice", { target_link_uri: `${gateway.url}/app/reports?q=1` });
    expect(again.location).toBe("/app/reports?q=1");
    expect((await sessionOf(again.sessionId))?.userId).toBe(session?.userId);
  });

  it("races: parallel first sign-ins of one new sub make one user; one callback sent twice at once signs in once", async () => {
    const a = new TestBrowser();
    const b = new TestBrowser();
    // The provider steps one after the other (one scripted login at a time), then both callbacks at once.
    const first = await throughProvider(a, SHARED, "racer");
    const second = await throughProvider(b, SHARED, "racer");
    const [ra, rb] = await Promise.all([callback(a, first.callback), callback(b, second.callback)]);
    expect([ra.status, rb.status]).toEqual([303, 303]);
    expect([ra.location, rb.location].filter((l) => l === `/app${FIRST_RUN}`)).toHaveLength(1);
    const users = await Promise.all([a, b].map(async (br) => (await sessionOf(br.cookie(gateway.url, "jupid_session") as string))?.userId));
    expect(users[0]).toBeDefined();
    expect(users[0]).toBe(users[1]);

    const c = new TestBrowser();
    const { callback: url } = await throughProvider(c, SHARED, "double-click");
    const twice = await Promise.all([callback(c, url), callback(c, url)]);
    expect(twice.map((r) => r.status).sort()).toEqual([303, 401]);
  });

  it("maps the same sub through the token path and the OIDC path to one user when subjects are shared", async () => {
    const token = mintToken(SHARED, { claims: { sub: "carol" } }, Math.floor(Date.now() / 1000));
    const viaToken = await postFrameSignIn(gateway.url, SHARED, { token, parentOrigin: "http://localhost:3000" });
    expect(viaToken.status).toBe(200);
    const tokenUser = await gateway.runtime.deps.identities.findUserId(SHARED, "carol");
    const viaOidc = await signInThroughOidc(SHARED, "carol");
    expect(viaOidc.location).toBe("/app/"); // not a first run: the user exists
    expect((await sessionOf(viaOidc.sessionId))?.userId).toBe(tokenUser);
  });

  it("keeps OIDC subjects apart (oidc:<sub>) when subjects are separate, and the token path cannot claim them", async () => {
    const viaOidc = await signInThroughOidc(SEPARATE, "dave");
    expect(viaOidc.location).toBe(`/app${FIRST_RUN}`);
    const userId = (await sessionOf(viaOidc.sessionId))?.userId;
    expect(await gateway.runtime.deps.identities.findUserId(SEPARATE, "oidc:dave")).toBe(userId);
    expect(await gateway.runtime.deps.identities.findUserId(SEPARATE, "dave")).toBeUndefined();
    const token = mintToken(SEPARATE, { claims: { sub: "oidc:dave" } }, Math.floor(Date.now() / 1000));
    const response = await postFrameSignIn(gateway.url, SEPARATE, { token, parentOrigin: "http://localhost:3000" });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "TOKEN_CLAIM_INVALID", claim: "sub" } });
  });

  it("refuses a callback without the transaction cookie (state missing in this browser): OIDC_STATE_MISMATCH", async () => {
    const { callback: url } = await throughProvider(new TestBrowser(), SHARED, "alice");
    const result = await callback(new TestBrowser(), url, "text/html");
    expect(result.status).toBe(400);
    expect(result.text).toContain("OIDC_STATE_MISMATCH");
    expect(result.headers.get("content-type")).toContain("text/html");
  });

  it("refuses a login CSRF: the attacker's callback in the victim's browser (another transaction) is a state mismatch", async () => {
    const attacker = new TestBrowser();
    const { callback: attackerCallback } = await throughProvider(attacker, SHARED, "mallory");
    const victim = new TestBrowser();
    await victim.request(loginUrl(SHARED)); // the victim has its own transaction
    const result = await callback(victim, attackerCallback);
    expect(result.json?.error?.code).toBe("OIDC_STATE_MISMATCH");
    expect(victim.cookie(gateway.url, "jupid_session")).toBeUndefined();
  });

  it.each([
    ["missing", (p: URLSearchParams) => p.delete("state")],
    ["changed", (p: URLSearchParams) => p.set("state", "A".repeat(43))],
    ["sent twice (the right one first)", (p: URLSearchParams) => p.append("state", "A".repeat(43))],
  ])("refuses a state that is %s", async (_label, change) => {
    const browser = new TestBrowser();
    const { callback: url } = await throughProvider(browser, SHARED, "alice");
    const changed = new URL(url);
    change(changed.searchParams);
    expect((await callback(browser, changed.href)).json?.error?.code).toBe("OIDC_STATE_MISMATCH");
  });

  it("refuses a tampered transaction cookie (its target is bound into state)", async () => {
    const browser = new TestBrowser();
    const { callback: url } = await throughProvider(browser, SHARED, "alice", { target_link_uri: "/dashboard" });
    const cookie = JSON.parse(Buffer.from(browser.cookie(gateway.url, "jupid_oidc_acme") as string, "base64url").toString());
    browser.setCookie(gateway.url, "jupid_oidc_acme", Buffer.from(JSON.stringify({ ...cookie, t: "/reports" })).toString("base64url"));
    expect((await callback(browser, url)).json?.error?.code).toBe("OIDC_STATE_MISMATCH");
  });

  it("refuses a transaction older than 10 minutes", async () => {
    const browser = new TestBrowser();
    const { callback: url } = await throughProvider(browser, SHARED, "alice");
    clockOffset = 601_000;
    expect((await callback(browser, url)).json?.error?.code).toBe("OIDC_STATE_MISMATCH");
  });

  it.each([
    ["missing", (p: URLSearchParams) => p.delete("iss")],
    ["another issuer", (p: URLSearchParams) => p.set("iss", "https://evil.example")],
  ])("refuses an RFC 9207 iss parameter that is %s: OIDC_ISSUER_MISMATCH", async (_label, change) => {
    const browser = new TestBrowser();
    const { callback: url } = await throughProvider(browser, SHARED, "alice");
    const changed = new URL(url);
    change(changed.searchParams);
    expect((await callback(browser, changed.href)).json?.error?.code).toBe("OIDC_ISSUER_MISMATCH");
  });

  it("relays a provider refusal (error=access_denied) as OIDC_LOGIN_REFUSED without its description", async () => {
    const browser = new TestBrowser();
    const { callback: url } = await throughProvider(browser, SHARED, "alice");
    const changed = new URL(url);
    changed.searchParams.delete("code");
    changed.searchParams.set("error", "access_denied");
    changed.searchParams.set("error_description", "<script>alert(1)</script>");
    const result = await callback(browser, changed.href, "text/html");
    expect(result.status).toBe(403);
    expect(result.text).toContain("OIDC_LOGIN_REFUSED");
    expect(result.text).not.toContain("<script>alert");
  });

  it("refuses a replayed callback: the code is single use at the provider", async () => {
    const browser = new TestBrowser();
    const { callback: url } = await throughProvider(browser, SHARED, "alice");
    const transaction = browser.cookie(gateway.url, "jupid_oidc_acme");
    expect((await callback(browser, url)).status).toBe(303);
    browser.setCookie(gateway.url, "jupid_oidc_acme", transaction);
    expect((await callback(browser, url)).json?.error?.code).toBe("OIDC_TOKEN_INVALID");
  });

  it("refuses a replayed nonce: a second code for the same transaction (no PAR, authorisation URL reused)", async () => {
    const browser = new TestBrowser();
    const { callback: first, authorize } = await throughProvider(browser, SEPARATE, "erin");
    const transaction = browser.cookie(gateway.url, "jupid_oidc_globex");
    expect((await callback(browser, first)).status).toBe(303);
    browser.setCookie(gateway.url, "jupid_oidc_globex", transaction);
    separate.nextLogin = "erin";
    const { url: second } = await browser.navigate(authorize, {}, (next) => next.origin === gateway.url);
    expect(second).not.toBe(first);
    const result = await callback(browser, second);
    expect(result.json?.error).toMatchObject({ code: "OIDC_TOKEN_INVALID", claim: "nonce" });
  });

  describe("ID token validation", () => {
    const cases: [string, () => (idToken: string) => Promise<string>, string | undefined][] = [
      ["tampered (payload changed, signature kept)", () => async (t) => {
        const [h, p, s] = t.split(".");
        const claims = JSON.parse(Buffer.from(p as string, "base64url").toString());
        return `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: "admin" })).toString("base64url")}.${s}`;
      }, undefined],
      ["expired", () => resign(shared, (c) => ({ ...c, iat: (c.iat as number) - 7200, exp: (c.iat as number) - 3600 })), "exp"],
      ["for another audience", () => resign(shared, (c) => ({ ...c, aud: "someone-else" })), "aud"],
      ["from another issuer", () => resign(shared, (c) => ({ ...c, iss: "https://evil.example" })), "iss"],
      ["with another nonce", () => resign(shared, (c) => ({ ...c, nonce: "n".repeat(43) })), "nonce"],
      ["with several audiences and no azp", () => resign(shared, (c) => ({ ...c, aud: [shared.clientId, "other"] })), undefined],
      ["authorised for another party (azp)", () => resign(shared, (c) => ({ ...c, aud: [shared.clientId, "other"], azp: "other" })), "azp"],
      ["signed by a key the provider does not publish", () => resign(shared, (c) => c, { kid: "rotated-2", key: "stranger" }), undefined],
    ];

    it.each(cases)("refuses an ID token %s: OIDC_TOKEN_INVALID, no session, no user", async (_label, rewrite, claim) => {
      spy.rewriteIdToken = rewrite();
      const browser = new TestBrowser();
      const account = `victim-${Math.random().toString(36).slice(2)}`;
      const { callback: url } = await throughProvider(browser, SHARED, account);
      const result = await callback(browser, url);
      expect(result.status, result.text).toBe(401);
      expect(result.json?.error?.code).toBe("OIDC_TOKEN_INVALID");
      if (claim) expect(result.json?.error?.claim).toBe(claim);
      expect(browser.cookie(gateway.url, "jupid_session")).toBeUndefined();
      expect(await gateway.runtime.deps.identities.findUserId(SHARED, account)).toBeUndefined();
    });
  });

  it("judges the genuine ID token with the gateway's clock: two hours on, it is expired", async () => {
    clockOffset = 2 * 3600 * 1000;
    const browser = new TestBrowser();
    const { callback: url } = await throughProvider(browser, SHARED, "time-traveller");
    const result = await callback(browser, url);
    expect(result.json?.error).toMatchObject({ code: "OIDC_TOKEN_INVALID", claim: "exp" });
  });

  it("refuses auth_time older than max_age", async () => {
    // The provider authenticated now; an hour and a bit later the same auth_time is too old for max_age 3600.
    spy.rewriteIdToken = resign(separate, (c) => ({ ...c, auth_time: (c.auth_time as number) - 3700 }));
    const browser = new TestBrowser();
    const { callback: url } = await throughProvider(browser, SEPARATE, "frank");
    const result = await callback(browser, url);
    expect(result.json?.error).toMatchObject({ code: "OIDC_TOKEN_INVALID", claim: "auth_time" });
  });
});

describe("provider metadata and keys are cached", () => {
  it("discovers once and fetches the JWKS once across many logins", async () => {
    const before = { discovery: spy.count("/.well-known/openid-configuration"), jwks: spy.count("/jwks") };
    for (let i = 0; i < 3; i++) await signInThroughOidc(SHARED, `cached-${i}`);
    expect(spy.count("/.well-known/openid-configuration") - before.discovery).toBe(0);
    expect(spy.count("/jwks") - before.jwks).toBe(0);
    expect(spy.count("/jwks")).toBeGreaterThanOrEqual(1);
  });

  it("refetches the JWKS on an unknown kid at most once per floor, whatever the number of such tokens", async () => {
    clockOffset = 120_000; // past the floor of the last fetch
    spy.rewriteIdToken = resign(shared, (c) => c, { kid: "random-kid", key: "stranger" });
    const before = spy.count("/jwks");
    for (let i = 0; i < 4; i++) {
      const browser = new TestBrowser();
      const { callback: url } = await throughProvider(browser, SHARED, `storm-${i}`);
      expect((await callback(browser, url)).json?.error?.code).toBe("OIDC_TOKEN_INVALID");
    }
    expect(spy.count("/jwks") - before).toBe(1);
    clockOffset = 200_000;
    const browser = new TestBrowser();
    const { callback: url } = await throughProvider(browser, SHARED, "storm-late");
    await callback(browser, url);
    expect(spy.count("/jwks") - before).toBe(2);
  });
});

describe("back-channel logout", () => {
  async function postLogout(partnerId: string, token: string) {
    const response = await fetch(`${gateway.url}/partner/${partnerId}/oidc/backchannel-logout`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ logout_token: token }),
    });
    return { status: response.status, json: (await response.json()) as { ended?: number; error?: { code: string; claim?: string } } };
  }

  const logoutClaims = (overrides: Record<string, unknown> = {}) => ({
    iss: shared.issuer,
    aud: shared.clientId,
    sub: "grace",
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 120,
    jti: `jti-${Math.random()}`,
    events: { "http://schemas.openid.net/event/backchannel-logout": {} },
    ...overrides,
  });

  it("ends every session of the user at that partner when the provider sends a logout token", async () => {
    const one = await signInThroughOidc(SHARED, "grace");
    const two = await signInThroughOidc(SHARED, "grace");
    const other = await signInThroughOidc(SHARED, "heidi");
    expect(await sessionOf(one.sessionId)).toBeDefined();
    await shared.backchannelLogout("grace");
    expect(await sessionOf(one.sessionId)).toBeUndefined();
    expect(await sessionOf(two.sessionId)).toBeUndefined();
    expect(await sessionOf(other.sessionId)).toBeDefined();
  });

  it("uses each jti once", async () => {
    const token = await shared.sign(logoutClaims(), { typ: "logout+jwt" });
    expect((await postLogout(SHARED, token)).status).toBe(200);
    expect(await postLogout(SHARED, token)).toMatchObject({ status: 401, json: { error: { code: "OIDC_TOKEN_INVALID", claim: "jti" } } });
  });

  const now = () => Math.floor(Date.now() / 1000);
  it.each([
    ["without the back-channel event", () => ({ events: { "urn:other": {} } }), "events"],
    ["with a nonce", () => ({ nonce: "n" }), "nonce"],
    ["without sub", () => ({ sub: undefined, sid: "s1" }), "sub"],
    ["for another audience", () => ({ aud: "someone-else" }), "aud"],
    ["from another issuer", () => ({ iss: "https://evil.example" }), "iss"],
    ["expired", () => ({ iat: now() - 7200, exp: now() - 3600 }), "exp"],
  ])("refuses a logout token %s and ends nothing", async (_label, overrides, claim) => {
    const session = await signInThroughOidc(SHARED, "grace");
    const result = await postLogout(SHARED, await shared.sign(logoutClaims(overrides())));
    expect(result.status).toBe(401);
    expect(result.json.error).toMatchObject({ code: "OIDC_TOKEN_INVALID", claim });
    expect(await sessionOf(session.sessionId)).toBeDefined();
  });

  it("refuses a logout token signed by an unknown key", async () => {
    const result = await postLogout(SHARED, await shared.sign(logoutClaims(), { kid: "nope", key: "stranger" }));
    expect(result).toMatchObject({ status: 401, json: { error: { code: "OIDC_TOKEN_INVALID" } } });
  });
});

describe("the provider being down", () => {
  it("is OIDC_PROVIDER_UNAVAILABLE (502) at initiation and at the callback, and changes nothing", async () => {
    const browser = new TestBrowser();
    const { callback: url } = await throughProvider(browser, SEPARATE, "ivan");
    const sessionsBefore = logLines.length;
    await separate.stop();
    try {
      const result = await callback(browser, url, "text/html");
      expect(result.status).toBe(502);
      expect(result.text).toContain("OIDC_PROVIDER_UNAVAILABLE");
      expect(browser.cookie(gateway.url, "jupid_session")).toBeUndefined();
      expect(await gateway.runtime.deps.identities.findUserId(SEPARATE, "oidc:ivan")).toBeUndefined();
    } finally {
      await separate.start();
    }
    const logged = logLines.slice(sessionsBefore).join("\n");
    expect(logged).toContain('"code":"OIDC_PROVIDER_UNAVAILABLE"');
    expect(logged).toMatch(/"message":"OIDC provider failure".*"reason":"the partner's OpenID provider failed the token request/);
  });

  it("is OIDC_PROVIDER_UNAVAILABLE when discovery fails in a process that has nothing cached", async () => {
    const down = await startTestProvider({ appUrl: gateway.url, partnerId: "down" });
    await down.stop();
    const cold = await startGateway({
      config: testEnvironment([{ ...partnerInput("down"), oidc: { issuer: down.issuer, clientId: down.clientId } } as never]),
      secrets: {},
      oidcClientSecrets: { down: down.clientSecret },
      port: 0,
    });
    try {
      const response = await fetch(`${cold.url}/partner/down/oidc/login?iss=${encodeURIComponent(down.issuer)}`, { redirect: "manual" });
      expect(response.status).toBe(502);
      expect(await response.json()).toMatchObject({ error: { code: "OIDC_PROVIDER_UNAVAILABLE" } });
      expect(response.headers.get("set-cookie")).toBeNull();
    } finally {
      await cold.close();
    }
  });
});
