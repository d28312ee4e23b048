/**
 * Issue 12, finding 1: login CSRF on the redirect entry. A sign-in that was
 * not shown to start on one of the partner's origins, or that would replace a
 * live session of another user, gets a confirmation page; nothing is created,
 * replaced or consumed before the user confirms. In-process through the
 * local gateway's routing function (the real-browser case is
 * test/browser/enter-csrf.test.ts).
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { type GatewayRequest, type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { partnerInput, testEnvironment } from "../fixtures/partners.ts";
import { mintToken, NOW, TEST_SECRET } from "../fixtures/tokens.ts";

const PARTNER = "http://localhost:3000";
const EVIL = "https://evil.example";
let gateway: RunningGateway;

beforeAll(async () => {
  setLogSink(() => {});
  const config = testEnvironment([
    partnerInput("acme", { allowedOrigins: [PARTNER], branding: { displayName: "Acme Books", primaryColor: "#aa0011", logoUrl: "https://cdn.acme.example/logo.png" } }),
    partnerInput("globex"),
  ]);
  gateway = await startGateway({ config, secrets: { acme: TEST_SECRET, globex: TEST_SECRET }, port: 0, clock: () => NOW });
  return () => gateway.close();
});

const form = (fields: Record<string, string>, headers: Record<string, string> = {}): GatewayRequest => ({
  method: "POST",
  target: "/partner/acme/enter",
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  body: Buffer.from(new URLSearchParams(fields).toString()),
});
const get = (target: string, headers: Record<string, string> = {}): GatewayRequest => ({ method: "GET", target, headers, body: Buffer.alloc(0) });
const cookieOf = (answer: { headers?: Record<string, unknown> }) => /jupid_session=([^;]+)/.exec(String(answer.headers?.["Set-Cookie"] ?? ""))?.[1];

function attackerToken(sub = `mallory-${randomUUID()}`) {
  return { sub, token: mintToken("acme", { claims: { sub, name: "Mallory Attacker", email: "mallory@evil.example" } }) };
}

async function expectConfirmPage(answer: Awaited<ReturnType<RunningGateway["handle"]>>, token: string) {
  expect(answer.statusCode).toBe(200);
  expect(answer.headers?.["Set-Cookie"]).toBeUndefined();
  expect(answer.headers?.["Content-Security-Policy"]).toContain("frame-ancestors 'none'");
  expect(answer.headers?.["Content-Security-Policy"]).not.toContain("script-src");
  const page = answer.body;
  expect(page).toMatch(/Continue to Jupid as <strong id="who">Mallory Attacker mallory@evil\.example<\/strong> from <strong id="partner">Acme Books<\/strong>\?/);
  expect(page).toContain('src="https://cdn.acme.example/logo.png"');
  expect(page).toContain("#aa0011");
  // The token travels in the POST body of the confirmation form, never in a URL.
  expect(page).toContain(`<input type="hidden" name="token" value="${token}">`);
  expect(page).toContain('action="/partner/acme/enter"');
  expect(page.match(new RegExp(token.split(".")[2] as string, "g"))).toHaveLength(1);
  return page;
}

describe("redirect entry: where the sign-in started", () => {
  it("GET ?token= without a Referer: confirmation page; no user, no session, token not consumed", async () => {
    const { sub, token } = attackerToken();
    const page = await expectConfirmPage(await gateway.handle(get(`/partner/acme/enter?token=${token}&path=/reports`)), token);
    expect(page).toContain('id="unverified"');
    expect(page).toContain('<input type="hidden" name="path" value="/reports">');
    expect(await gateway.memory!.identities.findUserId("acme", sub)).toBeUndefined();

    // The click: our page posts the same token back with confirm=1, from our origin.
    const confirmed = await gateway.handle(form({ token, path: "/reports", confirm: "1" }, { origin: gateway.url }));
    expect(confirmed.statusCode).toBe(303);
    expect(cookieOf(confirmed)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await gateway.memory!.identities.findUserId("acme", sub)).toBeDefined();
  });

  it.each([
    ["a foreign Referer", { referer: `${EVIL}/x` }],
    ["a Referer of another origin on the same host", { referer: "http://localhost:3001/" }],
  ])("GET ?token= with %s: confirmation page", async (_name, headers) => {
    const { token } = attackerToken();
    await expectConfirmPage(await gateway.handle(get(`/partner/acme/enter?token=${token}`, headers)), token);
  });

  it("GET ?token= opened from the partner's page signs in at once", async () => {
    const answer = await gateway.handle(get(`/partner/acme/enter?token=${attackerToken().token}`, { referer: `${PARTNER}/books?id=1` }));
    expect(answer.statusCode).toBe(303);
    expect(cookieOf(answer)).toBeDefined();
  });

  it("form POST: an allowlisted Origin signs in; Origin null or none asks; a foreign Origin is refused", async () => {
    expect((await gateway.handle(form({ token: attackerToken().token }, { origin: PARTNER }))).statusCode).toBe(303);
    for (const headers of [{ origin: "null" }, {}] as Record<string, string>[]) {
      const { token } = attackerToken();
      await expectConfirmPage(await gateway.handle(form({ token }, headers)), token);
    }
    const foreign = await gateway.handle(form({ token: attackerToken().token }, { origin: EVIL }));
    expect([foreign.statusCode, JSON.parse(foreign.body).error.code]).toEqual([403, "ORIGIN_NOT_ALLOWED"]);
  });

  it("our fragment page: `from` = an allowlisted referrer signs in; a foreign or missing one asks", async () => {
    expect((await gateway.handle(form({ token: attackerToken().token, from: PARTNER }, { origin: gateway.url }))).statusCode).toBe(303);
    for (const from of [EVIL, undefined]) {
      const { token } = attackerToken();
      await expectConfirmPage(await gateway.handle(form({ token, ...(from ? { from } : {}) }, { origin: gateway.url })), token);
    }
  });

  it("confirm=1 counts only from our own origin", async () => {
    for (const headers of [{ origin: "null" }, {}] as Record<string, string>[]) {
      const { token } = attackerToken();
      await expectConfirmPage(await gateway.handle(form({ token, confirm: "1" }, headers)), token);
    }
  });

  it("a bad token or path is refused before any confirmation page", async () => {
    const expired = mintToken("acme", { claims: { iat: Math.floor(NOW / 1000) - 400, exp: Math.floor(NOW / 1000) - 100 } });
    expect((await gateway.handle(get(`/partner/acme/enter?token=${expired}`))).statusCode).toBe(401);
    const forged = mintToken("acme", { secret: "x".repeat(40) });
    expect((await gateway.handle(form({ token: forged }))).statusCode).toBe(401);
    expect((await gateway.handle(form({ token: attackerToken().token, path: "//evil.example" }))).statusCode).toBe(403);
  });
});

describe("redirect entry: replacing a live session", () => {
  async function victimSession(): Promise<string> {
    const answer = await gateway.handle(form({ token: mintToken("acme", { claims: { sub: `victim-${randomUUID()}`, name: "Victor Victim", email: "victor@example.com" } }) }, { origin: PARTNER }));
    return cookieOf(answer) as string;
  }
  const workspace = (cookie: string) => gateway.handle(get("/app/", { cookie: `jupid_session=${cookie}` }));

  it("another user's token, even from the partner's page, asks first and leaves the live session alone until the click", async () => {
    const victim = await victimSession();
    const { sub, token } = attackerToken();
    const page = await expectConfirmPage(await gateway.handle(form({ token }, { origin: PARTNER, cookie: `jupid_session=${victim}` })), token);
    expect(page).toMatch(/You are signed in to Jupid as <strong>Victor Victim victor@example\.com<\/strong>/);
    expect((await workspace(victim)).statusCode).toBe(200);
    expect(await gateway.memory!.identities.findUserId("acme", sub)).toBeUndefined();

    const confirmed = await gateway.handle(form({ token, confirm: "1" }, { origin: gateway.url, cookie: `jupid_session=${victim}` }));
    expect(confirmed.statusCode).toBe(303);
    expect((await workspace(victim)).statusCode, "the replaced session is ended").toBe(401);
    expect((await workspace(cookieOf(confirmed) as string)).statusCode).toBe(200);
  });

  it("a session of another partner counts as another user", async () => {
    // A top-level session of globex in this browser (its redirect entry, from its own page).
    const other = await gateway.handle({ ...form({ token: mintToken("globex") }, { origin: PARTNER }), target: "/partner/globex/enter" });
    const { token } = attackerToken();
    await expectConfirmPage(await gateway.handle(form({ token }, { origin: PARTNER, cookie: `jupid_session=${cookieOf(other)}` })), token);
  });

  it("the same user signing in again from the partner's page goes straight through", async () => {
    const sub = `same-${randomUUID()}`;
    const first = await gateway.handle(form({ token: mintToken("acme", { claims: { sub } }) }, { origin: PARTNER }));
    const again = await gateway.handle(form({ token: mintToken("acme", { claims: { sub } }) }, { origin: PARTNER, cookie: `jupid_session=${cookieOf(first)}` }));
    expect(again.statusCode).toBe(303);
  });
});
