/**
 * The embed as partners use it, in headless Chromium: gateway on
 * http://127.0.0.1:<port> (the app), demo partner on http://localhost:<port>
 * (another site), so storage partitioning, CSP and postMessage work cross-site for real.
 */
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
import { dpopKey } from "../fixtures/dpop.ts";
import { CHROMIUM } from "./engines/chromium.ts";
import { requireBinary } from "./engines/engine.ts";
import { chromium } from "playwright-core";
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
  const url = `${world.stack.appUrl}/embed/${PARTNER_ID}/session`;
  const key = await dpopKey();
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", DPoP: await key.proof("POST", url) },
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
    expect(list[1]).toEqual({ type: "authenticated", firstRun: true, storage: "frame" });
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
    expect(iframe.allow).toBeNull();

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

  it("every mount asks the partner page for a token: remount and reload each call getToken once", async () => {
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
    expect(tokenRequests).toBe(2);
    await page.reload();
    await waitForDemo(page, "navigate");
    const list = await demoEvents(page);
    expect(list.find((e) => e.type === "authenticated")).toEqual({ type: "authenticated", firstRun: false, storage: "frame" });
    expect(list.find((e) => e.type === "navigate")).toEqual({ type: "navigate", path: "/dashboard" });
    expect(tokenRequests).toBe(3);
    expect(await (await workspaceFrame(page, "#jupid", "/dashboard")).textContent("#name")).toBe("Alan Turing");
  });

  it("sets no cookie and the partner page finds the credential nowhere: storage, cookies, messages, URLs", async () => {
    await logIn(world.context, world.stack);
    const page = await world.context.newPage();
    const urls: string[] = [];
    page.on("request", (request) => urls.push(request.url()));
    page.on("framenavigated", (frame) => urls.push(frame.url()));
    await page.addInitScript(() => {
      const seen: unknown[] = [];
      (window as unknown as { seenMessages: unknown[] }).seenMessages = seen;
      addEventListener("message", (event) => seen.push(event.data), true);
    });
    await page.goto(world.stack.partnerUrl);
    await waitForDemo(page, "navigate");
    // Inside the frame the credential lives in the frame's own (partitioned) storage.
    const frame = await frameIn(page, "#jupid");
    const stored = await frame.evaluate(() => Object.values({ ...sessionStorage }).map((v) => JSON.parse(v).credential));
    expect(stored).toHaveLength(1);
    const credential = stored[0] as string;
    expect(credential).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expect((await world.context.cookies(world.stack.appUrl)).filter((c) => c.name.includes("jupid"))).toEqual([]);
    const hostView = await page.evaluate(() => ({
      cookie: document.cookie,
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      messages: JSON.stringify((window as unknown as { seenMessages: unknown[] }).seenMessages),
      name: document.querySelector("iframe")?.name ?? "",
      html: document.documentElement.outerHTML,
    }));
    for (const [where, text] of Object.entries(hostView)) expect(text, where).not.toContain(credential);
    for (const url of urls) expect(url).not.toContain(credential);
    expect(JSON.parse(hostView.messages).length).toBeGreaterThan(2);

    // Outside the partner's page (first-party, another partition) there is no session.
    const direct = await world.context.newPage();
    const response = await direct.goto(`${world.stack.appUrl}/app/dashboard`);
    expect(response?.status()).toBe(401);
  });

  it("logging out of the partner app signs out of Jupid first", async () => {
    await logIn(world.context, world.stack);
    const page = await world.context.newPage();
    await page.goto(world.stack.partnerUrl);
    await waitForDemo(page, "authenticated");
    const credentialsBefore = world.stack.gateway.memory?.sessions.list().length ?? 0;

    await page.click("#logout button");
    await page.waitForSelector("input[name=email]");
    // The demo calls signOut() before its own logout: the session is gone at the gateway.
    expect(world.stack.gateway.memory?.sessions.list().length).toBe(credentialsBefore - 1);
    // A fresh embed on the same site has nothing to reuse: it has to ask for a token.
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
    // Only the pathname is reported: query and fragment are none of the partner page's business.
    await waitForEvent(page, "a", "navigate", { path: "/reports" });
    const frame = await workspaceFrame(page, "#a", "/reports");
    expect(await frame.textContent("#path")).toBe("/reports");
    expect(new URL(frame.url()).search).toBe("?year=2026");

    await frame.click(`nav a[href='/embed/${PARTNER_ID}/app/transactions']`);
    await waitForEvent(page, "a", "navigate", { path: "/transactions" });
    await expect(callHandle(page, "a", "navigate", "https://evil.example/")).rejects.toThrow(/app path/);
  });

  it("signOut() ends the session and reports authRequired; navigate() afterwards signs in again", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a" });
    await waitForEvent(page, "a", "authenticated");
    const callsBefore = await tokenCalls(page);
    const sessionsBefore = world.stack.gateway.memory?.sessions.list().length ?? 0;

    await callHandle(page, "a", "signOut");
    const afterSignOut = await waitForEvent(page, "a", "authRequired", { code: "SESSION_REQUIRED" });
    await sleep(300);
    // Signed out stays signed out: no token was fetched to sign straight back in.
    expect(await tokenCalls(page)).toBe(callsBefore);
    expect(types(await events(page, "a")).slice(afterSignOut.length).filter((t) => t !== "resize")).toEqual([]);
    const frame = await frameIn(page, "#a");
    await frame.waitForFunction(() => document.getElementById("state")?.textContent === "You have signed out of Jupid.");
    expect(await frame.evaluate(() => sessionStorage.length)).toBe(0);
    expect(world.stack.gateway.memory?.sessions.list().length).toBe(sessionsBefore - 1);

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
      { type: "authenticated", firstRun: false, storage: "frame" },
      { type: "navigate", path: "/dashboard" },
    ]);
    expect(b.filter((e) => e.type !== "resize")).toEqual([
      { type: "ready" },
      { type: "authenticated", firstRun: false, storage: "frame" },
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

describe("a shared browser", () => {
  it("user A, then user B on the same profile without signOut(): B is signed in as B, never A", async () => {
    const page = await openHarness(world.context, world.stack);
    const alice = newUser("Alice Ames");
    await mount(page, { key: "a", container: "#a", user: alice, initialPath: "/dashboard" });
    await waitForEvent(page, "a", "authenticated");
    expect(await (await workspaceFrame(page, "#a", FIRST_RUN_PATH)).textContent("#name")).toBe("Alice Ames");

    // Alice's partner session ends without signOut() (expiry, logout elsewhere); Bob logs in to the partner app.
    await page.reload();
    const bob = newUser("Bob Brown");
    await mount(page, { key: "b", container: "#a", user: bob });
    await waitForEvent(page, "b", "authenticated");
    const frame = await workspaceFrame(page, "#a", FIRST_RUN_PATH);
    expect(await frame.textContent("#name")).toBe("Bob Brown");
    expect(await frame.textContent("#sub")).toBe(bob.sub);
    expect(await tokenCalls(page)).toBe(1);
    // A new mount in the same tab without a reload: a new session again, for the user getToken vouches for.
    const carol = newUser("Carol Chen");
    await mount(page, { key: "c", container: "#a", user: carol });
    await waitForEvent(page, "c", "authenticated");
    expect(await (await workspaceFrame(page, "#a", FIRST_RUN_PATH)).textContent("#name")).toBe("Carol Chen");
  });

  it("a partner disabled mid-use ends the session: authRequired in the page, a readable state in the frame", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a", getToken: "none", token: world.stack.token() });
    await waitForEvent(page, "a", "authenticated");
    const memory = world.stack.gateway.memory!;
    const partner = (await memory.partners.get(PARTNER_ID))!;
    memory.partners.set({ ...partner, enabled: false });
    try {
      await callHandle(page, "a", "navigate", "/reports");
      const list = await waitForEvent(page, "a", "authRequired", { code: "PARTNER_DISABLED" });
      expect(list.at(-1)).toMatchObject({ type: "authRequired", code: "PARTNER_DISABLED" });
      const frame = await frameIn(page, "#a");
      await frame.waitForFunction(() => /not available here \(PARTNER_DISABLED\)/.test(document.getElementById("state")?.textContent ?? ""));
      expect(await frame.evaluate(() => sessionStorage.length)).toBe(0);
    } finally {
      memory.partners.set(partner);
    }
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
    expect(list[1]).toMatchObject({ type: "authRequired", code: "TOKEN_EXPIRED" });
    expect(list[1]?.message).toMatch(/expired/);
    expect(await tokenCalls(page)).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { marker: string }).marker)).toBe("still the same page");
  });

  it("a replayed token gives authRequired TOKEN_REPLAYED and getToken recovers", async () => {
    const token = world.stack.token();
    const url = `${world.stack.appUrl}/embed/${PARTNER_ID}/session`;
    const first = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", DPoP: await (await dpopKey()).proof("POST", url) },
      body: JSON.stringify({ token, parentOrigin: world.stack.partnerUrl }),
    });
    expect(first.status).toBe(200);

    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a", token });
    const list = await waitForEvent(page, "a", "authenticated");
    expect(list.find((e) => e.type === "authRequired")).toMatchObject({ type: "authRequired", code: "TOKEN_REPLAYED" });
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
    const memory = world.stack.gateway.memory;
    for (const session of memory?.sessions.list() ?? []) await memory?.sessions.delete(session.idHash);
    await page.clock.fastForward("01:00:01");

    const list = await waitForEvent(page, "a", "authenticated", {}, 2);
    const after = list.slice(list.findIndex((e) => e.type === "authRequired"));
    await waitForEvent(page, "a", "navigate", { path: "/reports" }, 2);
    expect(after.filter((e) => e.type !== "resize").slice(0, 2)).toMatchObject([
      { type: "authRequired", code: "SESSION_REQUIRED" },
      { type: "authenticated", firstRun: false, storage: "frame" },
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
    expect(await events(page, "a")).toMatchObject([{ type: "ready" }, { type: "authRequired", code: "TOKEN_EXPIRED" }]);
    expect(await events(page, "a")).toHaveLength(2);
  });

  it("gives up after 3 refused tokens from getToken (one request in flight at a time)", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a", getToken: "queue", tokens: [expired(), expired(), expired(), expired(), expired()] });
    await waitForEvent(page, "a", "authRequired", {}, 3);
    await sleep(600);
    const list = await events(page, "a");
    expect(list.filter((e) => e.type === "authRequired").map((e) => e.code)).toEqual(Array(3).fill("TOKEN_EXPIRED"));
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
    // getToken ran at mount, while the frame was (not) loading; nothing more happened.
    expect(await tokenCalls(page)).toBe(1);
    await world.context.unrouteAll({ behavior: "ignoreErrors" });
  });

  it("reports STORAGE_BLOCKED where the browser denies the frame any storage", async () => {
    // playwright-core's own default flags turn third-party storage partitioning off, which leaves a
    // cross-site frame with no storage at all (Chromium blocks third-party storage by default here).
    const denying = await chromium.launch({ executablePath: requireBinary(CHROMIUM), args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const page = await openHarness(await denying.newContext(), world.stack);
      await mount(page, { key: "a", container: "#a" });
      const list = await waitForEvent(page, "a", "error", { code: "STORAGE_BLOCKED" });
      expect(types(list)).not.toContain("authenticated");
      const frame = await frameIn(page, "#a");
      expect(await frame.textContent("#status")).toMatch(/Open Jupid in its own tab/);
    } finally {
      await denying.close();
    }
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
