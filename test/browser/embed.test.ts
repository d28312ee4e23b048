/**
 * The embed as partners use it, in headless Chromium: gateway on
 * http://127.0.0.1:<port> (the app), demo partner on http://localhost:<port>
 * (another site), so cookies, CSP and postMessage work cross-site for real.
 */
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  BRAND_NAME,
  callHandle,
  DISABLED_PARTNER_ID,
  events,
  FIRST_RUN_PATH,
  frameIn,
  logIn,
  mount,
  newUser,
  openHarness,
  PARTNER_ID,
  PATHS_PARTNER_ID,
  type RecordedEvent,
  sleep,
  tokenCalls,
  types,
  waitForEvent,
  workspaceFrame,
} from "./support.ts";
import { useBrowserWorld } from "./world.ts";

const RESULTS_DIR = join(import.meta.dirname, "..", "..", "test-results");

const world = useBrowserWorld({ viewport: { width: 1280, height: 800 } });

/** The demo page's own event log (window.jupidDemo.events). */
const demoEvents = (page: Page) =>
  page.evaluate(() => (window as unknown as { jupidDemo: { events: RecordedEvent[] } }).jupidDemo.events);
/** Wait until the demo page logged `count` events of `type` (a function predicate: the demo's CSP forbids eval). */
const waitForDemo = (page: Page, type: string, count = 1) =>
  page.waitForFunction(
    ({ type, count }) =>
      (window as unknown as { jupidDemo?: { events: RecordedEvent[] } }).jupidDemo?.events.filter((e) => e.type === type).length ===
      count,
    { type, count },
    { timeout: 15_000, polling: 50 },
  );

/** Sign a partner user in once from the server side, so that the browser sees a returning user. */
async function signInOnce(sub: string): Promise<void> {
  const response = await fetch(`${world.stack.appUrl}/embed/${PARTNER_ID}/session`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: world.stack.token(PARTNER_ID, { sub }), parentOrigin: world.stack.harnessUrl }),
  });
  expect(response.status).toBe(200);
}

describe("the demo partner site", () => {
  it("signs a first-run user in through getToken, lands on firstRunPath and shows the user (screenshot)", async () => {
    const page = await world.context.newPage();
    const consoleProblems: string[] = [];
    page.on("console", (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) consoleProblems.push(message.text());
    });
    page.on("pageerror", (error) => consoleProblems.push(error.message));
    const requested: string[] = [];
    page.on("request", (request) => requested.push(`${request.url()} ${request.postData() ?? ""}`));
    const tokens: string[] = [];
    page.on("response", async (response) => {
      if (response.url().endsWith("/api/jupid/embed-token")) tokens.push(((await response.json()) as { token: string }).token);
    });

    await page.goto(world.stack.partnerUrl);
    await page.fill("input[name=name]", "Grace Hopper");
    await page.fill("input[name=email]", "grace@acme.example");
    await page.click("button[type=submit]");
    await waitForDemo(page, "navigate");

    const list = await demoEvents(page);
    expect(types(list).slice(0, 3)).toEqual(["ready", "authenticated", "navigate"]);
    expect(list[1]).toEqual({ type: "authenticated", firstRun: true });
    expect(list[2]).toEqual({ type: "navigate", path: FIRST_RUN_PATH });

    const frame = await workspaceFrame(page, "#jupid", FIRST_RUN_PATH);
    expect(await frame.textContent("#name")).toBe("Grace Hopper");
    expect(await frame.textContent("#email")).toBe("grace@acme.example");
    expect(await frame.textContent("#partner")).toBe(PARTNER_ID);
    expect(await frame.textContent("#path")).toBe(FIRST_RUN_PATH);

    const iframe = await page.$eval("#jupid iframe", (el) => ({
      src: el.getAttribute("src"),
      title: el.getAttribute("title"),
      allow: el.getAttribute("allow"),
      name: el.getAttribute("name"),
    }));
    expect(iframe.src).toBe(`${world.stack.appUrl}/embed/${PARTNER_ID}`);
    expect(iframe.title).toBe(BRAND_NAME);
    expect(iframe.allow).toBe("storage-access");

    // Exactly one token was minted, and it never appeared in a URL (only in the session POST body).
    expect(tokens).toHaveLength(1);
    const token = tokens[0] as string;
    const carrying = requested.filter((line) => line.includes(token));
    expect(carrying).toHaveLength(1);
    expect(carrying[0]).toMatch(new RegExp(`^${world.stack.appUrl}/embed/${PARTNER_ID}/session \\{`));
    expect(iframe.name).not.toContain(token);
    // The inline scripts ran under their CSP hashes and the strict partner CSP let the SDK work.
    expect(consoleProblems).toEqual([]);

    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(RESULTS_DIR, "demo-signed-in.png") });
  });

  it("skips the token when the cookie session is live: remount and reload land on initialPath without getToken", async () => {
    await logIn(world.context, world.stack, "Alan Turing");
    const page = await world.context.newPage();
    let tokenRequests = 0;
    page.on("request", (request) => {
      if (request.url().endsWith("/api/jupid/embed-token")) tokenRequests++;
    });
    await page.goto(world.stack.partnerUrl);
    await waitForDemo(page, "navigate");
    expect(tokenRequests).toBe(1);

    await page.click("#remount");
    await waitForDemo(page, "authenticated", 2);
    await page.reload();
    await waitForDemo(page, "navigate");
    const list = await demoEvents(page);
    expect(list.find((e) => e.type === "authenticated")).toEqual({ type: "authenticated", firstRun: false });
    expect(list.find((e) => e.type === "navigate")).toEqual({ type: "navigate", path: "/dashboard" });
    expect(tokenRequests).toBe(1);
    expect(await (await workspaceFrame(page, "#jupid", "/dashboard")).textContent("#name")).toBe("Alan Turing");
  });

  it("keeps the session cookie HttpOnly, Secure, SameSite=None and partitioned to the partner's site", async () => {
    await logIn(world.context, world.stack);
    const page = await world.context.newPage();
    await page.goto(world.stack.partnerUrl);
    await waitForDemo(page, "authenticated");

    const cookies = (await world.context.cookies(world.stack.appUrl)).filter((c) => c.name.includes("jupid_session"));
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, secure: true, sameSite: "None", partitionKey: "http://localhost" });

    // Outside the partner's page (first-party, another partition) the session does not exist.
    const direct = await world.context.newPage();
    const response = await direct.goto(`${world.stack.appUrl}/app/dashboard`);
    expect(response?.status()).toBe(401);
  });

  it("logging out of the partner app signs out of Jupid first", async () => {
    await logIn(world.context, world.stack);
    const page = await world.context.newPage();
    await page.goto(world.stack.partnerUrl);
    await waitForDemo(page, "authenticated");
    const frame = await frameIn(page, "#jupid");
    const sessionUrl = `/embed/${PARTNER_ID}/session`;
    expect(await frame.evaluate((url) => fetch(url).then((r) => r.status), sessionUrl)).toBe(200);

    await page.click("#logout button");
    await page.waitForSelector("input[name=email]");
    // A fresh embed on the same site finds no session to reuse: it has to ask for a token.
    const harness = await openHarness(world.context, world.stack);
    await mount(harness, { key: "a", container: "#a", getToken: "queue", tokens: [] });
    await waitForEvent(harness, "a", "error", { code: "GET_TOKEN_FAILED" });
    expect(types(await events(harness, "a"))).not.toContain("authenticated");
  });
});

describe("the SDK handle", () => {
  it("navigate() moves the workspace and in-app navigation is reported", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a", initialPath: "/dashboard" });
    await waitForEvent(page, "a", "navigate", { path: FIRST_RUN_PATH });

    await callHandle(page, "a", "navigate", "/reports?year=2026");
    await waitForEvent(page, "a", "navigate", { path: "/reports?year=2026" });
    const frame = await workspaceFrame(page, "#a", "/reports");
    expect(await frame.textContent("#path")).toBe("/reports");

    await frame.click("nav a[href='/app/transactions']");
    await waitForEvent(page, "a", "navigate", { path: "/transactions" });
    await expect(callHandle(page, "a", "navigate", "https://evil.example/")).rejects.toThrow(/app path/);
  });

  it("signOut() ends the session and reports authRequired; navigate() afterwards signs in again", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a" });
    await waitForEvent(page, "a", "authenticated");
    const callsBefore = await tokenCalls(page);

    await callHandle(page, "a", "signOut");
    const afterSignOut = await waitForEvent(page, "a", "authRequired", { code: "SESSION_REQUIRED" });
    await sleep(300);
    // Signed out stays signed out: no token was fetched to sign straight back in.
    expect(await tokenCalls(page)).toBe(callsBefore);
    expect(types(await events(page, "a")).slice(afterSignOut.length)).toEqual([]);
    const frame = await frameIn(page, "#a");
    expect(await frame.evaluate((url) => fetch(url).then((r) => r.status), `/embed/${PARTNER_ID}/session`)).toBe(401);

    await callHandle(page, "a", "navigate", "/reports");
    await waitForEvent(page, "a", "authenticated", {}, 2);
    await waitForEvent(page, "a", "navigate", { path: "/reports" });
    expect(await tokenCalls(page)).toBe(callsBefore + 1);
  });

  it("two embeds on one page stay separate", async () => {
    // A returning user (first sign-in done elsewhere), so each embed opens its own initialPath.
    const user = newUser("Bea Returning");
    await signInOnce(user.sub);
    const page = await openHarness(world.context, world.stack);
    const nameA = await mount(page, { key: "a", container: "#a", initialPath: "/dashboard", title: "Jupid A", user });
    const nameB = await mount(page, { key: "b", container: "#b", initialPath: "/reports", user });
    expect(nameA).not.toBe(nameB);
    await waitForEvent(page, "a", "navigate");
    await waitForEvent(page, "b", "navigate");
    const a = await events(page, "a");
    const b = await events(page, "b");
    // Each handle saw exactly its own story, once.
    expect(a.filter((e) => e.type !== "resize")).toEqual([
      { type: "ready" },
      { type: "authenticated", firstRun: false },
      { type: "navigate", path: "/dashboard" },
    ]);
    expect(b.filter((e) => e.type !== "resize")).toEqual([
      { type: "ready" },
      { type: "authenticated", firstRun: false },
      { type: "navigate", path: "/reports" },
    ]);
    expect(await (await workspaceFrame(page, "#a", "/dashboard")).textContent("#name")).toBe("Bea Returning");
    expect(await (await workspaceFrame(page, "#b", "/reports")).textContent("#name")).toBe("Bea Returning");
    expect(await page.$eval("#a iframe", (el) => el.getAttribute("title"))).toBe("Jupid A");
    expect(await page.$eval("#b iframe", (el) => el.getAttribute("title"))).toBe(BRAND_NAME);

    await callHandle(page, "b", "navigate", "/transactions");
    await waitForEvent(page, "b", "navigate", { path: "/transactions" });
    await sleep(200);
    expect((await events(page, "a")).filter((e) => e.type === "navigate")).toHaveLength(1);
    expect(await (await workspaceFrame(page, "#a", "/dashboard")).textContent("#path")).toBe("/dashboard");
  });
});

describe("re-authentication", () => {
  const expired = () => {
    const now = Math.floor(Date.now() / 1000);
    return world.stack.token(PARTNER_ID, { iat: now - 600, exp: now - 400 });
  };

  it("an expired token gives authRequired TOKEN_EXPIRED and getToken recovers without reloading the page", async () => {
    const page = await openHarness(world.context, world.stack);
    await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = "still the same page";
    });
    await mount(page, { key: "a", container: "#a", token: expired() });
    const list = await waitForEvent(page, "a", "authenticated");
    expect(types(list).slice(0, 3)).toEqual(["ready", "authRequired", "authenticated"]);
    expect(list[1]).toEqual({ type: "authRequired", code: "TOKEN_EXPIRED" });
    expect(await tokenCalls(page)).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { marker: string }).marker)).toBe("still the same page");
  });

  it("a replayed token gives authRequired TOKEN_REPLAYED and getToken recovers", async () => {
    const token = world.stack.token();
    const first = await fetch(`${world.stack.appUrl}/embed/${PARTNER_ID}/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token, parentOrigin: world.stack.partnerUrl }),
    });
    expect(first.status).toBe(200);

    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a", token });
    const list = await waitForEvent(page, "a", "authenticated");
    expect(list).toContainEqual({ type: "authRequired", code: "TOKEN_REPLAYED" });
    expect(await tokenCalls(page)).toBe(1);
  });

  it("when the session ends in the workspace, getToken signs in again inside the frame at the same path", async () => {
    const page = await world.context.newPage();
    await page.clock.install();
    await page.goto(`${world.stack.harnessUrl}/harness`);
    await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = "still the same page";
    });
    await mount(page, { key: "a", container: "#a" });
    await waitForEvent(page, "a", "navigate", { path: FIRST_RUN_PATH });
    await callHandle(page, "a", "navigate", "/reports");
    await waitForEvent(page, "a", "navigate", { path: "/reports" });

    // The gateway forgets the session (as at the end of its lifetime) and the page's clock reaches that moment.
    const cookie = (await world.context.cookies(world.stack.appUrl)).find((c) => c.name.includes("jupid_session"));
    await world.stack.gateway.memory?.sessions.delete(createHash("sha256").update(cookie?.value ?? "").digest("hex"));
    await page.clock.fastForward("01:00:01");

    const list = await waitForEvent(page, "a", "authenticated", {}, 2);
    const after = list.slice(list.findIndex((e) => e.type === "authRequired"));
    await waitForEvent(page, "a", "navigate", { path: "/reports" }, 2);
    expect(after.filter((e) => e.type !== "resize").slice(0, 2)).toEqual([
      { type: "authRequired", code: "SESSION_REQUIRED" },
      { type: "authenticated", firstRun: false },
    ]);
    expect(await (await workspaceFrame(page, "#a", "/reports")).textContent("#path")).toBe("/reports");
    expect(await tokenCalls(page)).toBe(2);
    expect(await page.evaluate(() => (window as unknown as { marker: string }).marker)).toBe("still the same page");
  });

  it("without getToken a refused token ends in authRequired and nothing more", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a", token: expired(), getToken: "none" });
    await waitForEvent(page, "a", "authRequired");
    await sleep(500);
    expect(await events(page, "a")).toEqual([{ type: "ready" }, { type: "authRequired", code: "TOKEN_EXPIRED" }]);
  });

  it("gives up after 3 refused tokens from getToken (one request in flight at a time)", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a", getToken: "queue", tokens: [expired(), expired(), expired(), expired(), expired()] });
    await waitForEvent(page, "a", "authRequired", {}, 3);
    await sleep(600);
    const list = await events(page, "a");
    expect(list.filter((e) => e.type === "authRequired")).toEqual(Array(3).fill({ type: "authRequired", code: "TOKEN_EXPIRED" }));
    expect(await tokenCalls(page)).toBe(3);
    expect(types(list)).not.toContain("authenticated");
  });

  it("retries a failing getToken with backoff, at most 3 times, and reports GET_TOKEN_FAILED", async () => {
    const page = await world.context.newPage();
    await page.clock.install();
    await page.goto(`${world.stack.harnessUrl}/harness`);
    await mount(page, { key: "a", container: "#a", getToken: "fail" });
    const first = await waitForEvent(page, "a", "error", { code: "GET_TOKEN_FAILED" });
    expect(first.find((e) => e.type === "error")).toEqual({ type: "error", code: "GET_TOKEN_FAILED", message: "partner backend down" });
    // Backoff: 1 s, then 2 s.
    await page.clock.fastForward(1_100);
    await waitForEvent(page, "a", "error", { code: "GET_TOKEN_FAILED" }, 2);
    await page.clock.fastForward(2_100);
    await waitForEvent(page, "a", "error", { code: "GET_TOKEN_FAILED" }, 3);
    await page.clock.fastForward(60_000);
    await sleep(100);
    expect(await tokenCalls(page)).toBe(3);
  });
});

describe("errors from the gateway and the browser", () => {
  it("reports PARTNER_DISABLED and PATH_NOT_ALLOWED with the gateway's codes", async () => {
    const page = await openHarness(world.context, world.stack);
    // The disabled partner is on the local allowlist only through the generated file; the page still frames.
    await mount(page, { key: "a", container: "#a", partnerId: DISABLED_PARTNER_ID, token: world.stack.token(DISABLED_PARTNER_ID), getToken: "none" });
    await mount(page, {
      key: "b",
      container: "#b",
      partnerId: PATHS_PARTNER_ID,
      token: world.stack.token(PATHS_PARTNER_ID),
      initialPath: "/admin",
      getToken: "none",
    });
    const a = await waitForEvent(page, "a", "error");
    const b = await waitForEvent(page, "b", "error");
    expect(a[1]).toMatchObject({ type: "error", code: "PARTNER_DISABLED" });
    expect(b[1]).toMatchObject({ type: "error", code: "PATH_NOT_ALLOWED" });
    expect(typeof b[1]?.message).toBe("string");
  });

  it("reports HANDSHAKE_TIMEOUT when the frame never loads", async () => {
    // The app never answers (network down): no load, no ready.
    await world.context.route(`${world.stack.appUrl}/embed/${PARTNER_ID}`, () => undefined);
    const page = await world.context.newPage();
    await page.clock.install();
    await page.goto(`${world.stack.harnessUrl}/harness`);
    await mount(page, { key: "a", container: "#a" });
    await page.clock.fastForward("00:19");
    await sleep(100);
    expect(await events(page, "a")).toEqual([]);
    await page.clock.fastForward("00:02");
    const list = await waitForEvent(page, "a", "error", { code: "HANDSHAKE_TIMEOUT" });
    expect(list).toHaveLength(1);
    expect(await tokenCalls(page)).toBe(0);
    await world.context.unrouteAll({ behavior: "ignoreErrors" });
  });

  it("reports STORAGE_BLOCKED when the browser drops the session cookie", async () => {
    // Stand-in for a browser that blocks third-party storage: the Set-Cookie never arrives.
    await world.context.route(`${world.stack.appUrl}/embed/${PARTNER_ID}/session`, async (route) => {
      if (route.request().method() !== "POST") return route.continue();
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers["set-cookie"];
      return route.fulfill({ response, headers });
    });
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a" });
    const list = await waitForEvent(page, "a", "error", { code: "STORAGE_BLOCKED" });
    expect(types(list)).not.toContain("authenticated");
    const frame = await frameIn(page, "#a");
    expect(await frame.isVisible("#continue")).toBe(true);
  });
});

describe("the redirect integration", () => {
  it("/partner/{id}/enter#token=… signs in top-level and keeps the token out of the URL and history", async () => {
    const token = world.stack.token(PARTNER_ID, { name: "Redirect User" });
    const page = await world.context.newPage();
    const posted: string[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST") posted.push(request.url());
    });
    // Opened from the partner's page (an allowed origin): no confirmation step (issue 12, test/browser/enter-csrf.test.ts).
    await page.goto(`${world.stack.harnessUrl}/harness`);
    await page.evaluate((url) => {
      location.href = url;
    }, `${world.stack.appUrl}/partner/${PARTNER_ID}/enter#token=${token}&path=/reports`);
    await page.waitForURL(`${world.stack.appUrl}/app/**`);
    expect(page.url()).toBe(`${world.stack.appUrl}/app${FIRST_RUN_PATH}`);
    expect(await page.textContent("#name")).toBe("Redirect User");
    expect(posted).toEqual([`${world.stack.appUrl}/partner/${PARTNER_ID}/enter`]);
    await page.goBack();
    expect(page.url()).not.toContain(token);
  });

  it("the entry page without a token explains what to do", async () => {
    const page = await world.context.newPage();
    await page.goto(`${world.stack.appUrl}/partner/${PARTNER_ID}/enter`);
    expect(await page.textContent("#message")).toMatch(/no sign-in token/);
  });
});
