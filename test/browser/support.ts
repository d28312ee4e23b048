/**
 * Real-browser test harness: Debian's Chromium driven by playwright-core, the
 * local gateway on 127.0.0.1 and the demo partner on localhost (two sites),
 * both in-process, with a generated partners file and secrets.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Frame, Page } from "playwright-core";
import { loadEnvironmentConfig } from "../../config/schema.ts";
import { mintEmbedToken, startDemoPartner } from "../../lambdas/local/demo-partner.ts";
import { type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { signRaw } from "../fixtures/tokens.ts";
import { launchChromiumBrowser } from "./engines/chromium.ts";
import { freePort } from "./engines/engine.ts";

/** Debian's Chromium with the harness's arguments (the engine drivers' {@link launchChromiumBrowser}). */
export function launchChromium(): Promise<Browser> {
  return launchChromiumBrowser();
}

/** The partner the demo site signs for; allowed on the demo site's origin only. */
export const PARTNER_ID = "browser-acme";
/** Allows the demo origin too, but only under /dashboard. */
export const PATHS_PARTNER_ID = "browser-paths";
export const DISABLED_PARTNER_ID = "browser-off";
export const FIRST_RUN_PATH = "/onboarding/connect-accounts";
export const BRAND_NAME = "Acme Books × Jupid";

export interface Stack {
  readonly gateway: RunningGateway;
  /** The gateway's origin, e.g. http://127.0.0.1:41234 (the app origin; https://… with `tls`). */
  readonly appUrl: string;
  /** With `tls`: the certificate (PEM) a Node client passes as `ca` to trust the app. */
  readonly ca: string | undefined;
  /** The demo partner's origin, e.g. http://localhost:41235 (allowed to frame the app). */
  readonly partnerUrl: string;
  /** Origin of the test pages (harness), also allowed for every partner: a second partner page server. */
  readonly harnessUrl: string;
  /** The same test pages on an origin no partner allows. */
  readonly evilUrl: string;
  readonly secrets: Readonly<Record<string, string>>;
  /** A token signed like a partner would, for any partner and claims. */
  token(partnerId?: string, claims?: Record<string, unknown>): string;
  /**
   * `fetch` from Node to the app: `path` is relative to {@link appUrl} (or a
   * full URL). With `tls` it trusts the local certificate, which the global
   * `fetch` cannot be told to do. The body must be a string.
   */
  appFetch(path: string, init?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Response>;
  close(): Promise<void>;
}

export interface StackOptions {
  /**
   * Serve the app (the gateway) on https://127.0.0.1 with the local
   * self-signed certificate, as production serves it; partner pages stay
   * http://localhost (another site). Browsers must accept the certificate
   * (the engine drivers do). @default false
   */
  readonly tls?: boolean;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const [partnerPort, harnessPort, evilPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const partnerUrl = `http://localhost:${partnerPort}`;
  const harnessUrl = `http://localhost:${harnessPort}`;
  const dir = mkdtempSync(join(tmpdir(), "jupid-browser-"));
  const partner = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    displayName: `Partner ${id}`,
    allowedOrigins: [partnerUrl, harnessUrl],
    branding: { displayName: BRAND_NAME, primaryColor: "#0f766e" },
    shell: { mode: "embedded", chat: true, allowOverride: { mode: true, chat: true } },
    firstRunPath: FIRST_RUN_PATH,
    freeLimit: { metric: "transactions", threshold: 100 },
    ...extra,
  });
  const partnersFile = join(dir, "partners.json");
  writeFileSync(
    partnersFile,
    JSON.stringify({
      environment: "local",
      appUrl: "http://127.0.0.1:4000",
      workspaceBasePath: "/app",
      sessionLifetimeSeconds: 3600,
      partners: [
        partner(PARTNER_ID),
        partner(PATHS_PARTNER_ID, { allowedPaths: ["/dashboard"] }),
        partner(DISABLED_PARTNER_ID, { enabled: false }),
      ],
    }),
  );
  const secrets = Object.fromEntries(
    [PARTNER_ID, PATHS_PARTNER_ID, DISABLED_PARTNER_ID].map((id) => [id, randomBytes(32).toString("base64url")]),
  );
  writeFileSync(join(dir, "secrets.json"), JSON.stringify(secrets), { mode: 0o600 });

  const gateway = await startGateway({ config: loadEnvironmentConfig(partnersFile), secrets, host: "127.0.0.1", port: 0, tls: options.tls === true });
  const [demo, harness, evil] = await Promise.all([
    startDemoPartner({ port: partnerPort, host: "localhost", gatewayUrl: gateway.url, partnerId: PARTNER_ID, secret: secrets[PARTNER_ID] as string }),
    startPageServer(harnessPort, gateway.url, secrets),
    startPageServer(evilPort, gateway.url, secrets),
  ]);
  return {
    gateway,
    appUrl: gateway.url,
    ca: gateway.ca,
    partnerUrl: demo.url,
    harnessUrl,
    evilUrl: `http://localhost:${evilPort}`,
    secrets,
    token(partnerId = PARTNER_ID, claims = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload = {
        iss: partnerId,
        aud: "jupid-embed",
        sub: `static-${randomBytes(6).toString("hex")}`,
        name: "Static Token",
        iat: now,
        exp: now + 300,
        jti: randomBytes(12).toString("hex"),
        ...claims,
      };
      return signRaw(JSON.stringify({ alg: "HS256", typ: "JWT" }), JSON.stringify(payload), secrets[partnerId]);
    },
    appFetch(path, init = {}) {
      const url = new URL(path, gateway.url);
      if (url.protocol === "http:" || !gateway.ca) return fetch(url, init);
      return httpsFetch(url, gateway.ca, init);
    },
    async close() {
      await Promise.all([demo.close(), closeServer(harness), closeServer(evil)]);
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A minimal `fetch` over node:https trusting `ca` (string bodies; the response as a standard Response). */
function httpsFetch(url: URL, ca: string, init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, method: init.method ?? "GET", headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
        }
        const status = res.statusCode ?? 0;
        const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(body, { status, statusText: res.statusMessage, headers }));
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/**
 * A partner page server for tests on localhost:<port>. Real loopback servers,
 * not route interception: Chromium's Local Network Access checks treat a
 * fulfilled page as public and refuse its requests to 127.0.0.1.
 *   GET /harness                          the harness page ({@link harnessHtml})
 *   GET /impostor                         a page that pretends to be the Jupid frame
 *   GET /api/jupid/embed-token?partnerId&sub&name&email   a token as the partner's server would mint it
 */
async function startPageServer(port: number, appUrl: string, secrets: Readonly<Record<string, string>>): Promise<Server> {
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://pages.invalid");
    if (url.pathname === "/harness") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
      return void res.end(harnessHtml(appUrl));
    }
    if (url.pathname === "/impostor") {
      // Pretends to be the Jupid frame from the wrong origin: says `ready` with the embed id it was given, records what it gets.
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
      return void res.end(`<!doctype html><title>impostor</title><script>
window.received = [];
addEventListener("message", (e) => window.received.push(e.data));
const embedId = new URLSearchParams(window.name).get("id");
for (const type of ["jupid:ready", "jupid:tokenRequired", "jupid:authRequired"]) {
  parent.postMessage({ type, embedId, v: 1, code: "TOKEN_EXPIRED", title: "impostor" }, "*");
}
</script>`);
    }
    if (url.pathname === "/api/jupid/embed-token") {
      const q = url.searchParams;
      const partnerId = q.get("partnerId") ?? PARTNER_ID;
      const user = { id: q.get("sub") ?? "harness-user", name: q.get("name") ?? "Harness User", email: q.get("email") ?? "harness@acme.example" };
      // A partner this page server has no secret for (e.g. an unknown id) gets no token, as a real backend would answer.
      const secret = secrets[partnerId];
      if (!secret) return void res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ error: "unknown partner" }));
      void mintEmbedToken(partnerId, secret, user).then(
        (token) => {
          res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
          res.end(JSON.stringify({ token }));
        },
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "localhost", () => resolve());
  });
  return server;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Log a stub user in to the demo partner (its cookie lands in `context`); returns the email. */
export async function logIn(context: BrowserContext, stack: Stack, name = "Ada Lovelace"): Promise<string> {
  const email = `${name.split(" ")[0]?.toLowerCase()}.${randomBytes(4).toString("hex")}@acme.example`;
  const response = await context.request.post(`${stack.partnerUrl}/login`, { form: { name, email }, maxRedirects: 0 });
  if (response.status() !== 303) throw new Error(`login stub answered ${response.status()}`);
  return email;
}

/**
 * The harness page on `origin` (default: the allowed harness origin). It
 * loads embed.js from the gateway after an instrumentation script that
 * counts live listeners, timers, animation frames and observers created from
 * embed.js, and offers `harness.mount`.
 */
export async function openHarness(context: BrowserContext, stack: Stack, origin = stack.harnessUrl): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${origin}/harness`);
  return page;
}

/** Options `harness.mount` understands (functions cannot cross into the page, so getToken is described). */
export interface HarnessMount {
  readonly key: string;
  readonly container: string;
  readonly partnerId?: string;
  readonly token?: string;
  /** `endpoint`: fetch the page server's token endpoint for `user` (default); `queue`: hand out `tokens` then fail; `none`: no getToken. */
  readonly getToken?: "endpoint" | "queue" | "fail" | "none";
  /** The partner-side user the endpoint signs for. @default a fresh random user */
  readonly user?: { readonly sub: string; readonly name: string; readonly email: string };
  readonly tokens?: readonly string[];
  readonly initialPath?: string;
  readonly title?: string;
  readonly autoResize?: boolean | { minHeight?: number; maxHeight?: number };
  readonly appUrl?: string;
}

export interface RecordedEvent {
  readonly type: string;
  readonly [key: string]: unknown;
}

export function harnessHtml(appUrl: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>harness</title>
<script>${INSTRUMENTATION}</script>
<script src="${appUrl}/embed.js"></script>
<style>body{margin:0;font:14px sans-serif}.box{height:420px;width:900px;border:1px solid #ccc;margin:8px}.auto{width:900px;margin:8px}</style>
</head><body>
<div id="auto" class="auto"></div><div id="a" class="box"></div><div id="b" class="box"></div>
<script>${HARNESS}</script></body></html>`;
}

/** Counts what embed.js creates and has not released (creation stacks name embed.js). */
const INSTRUMENTATION = `(() => {
  const fromSdk = () => /\\/embed\\.js/.test(new Error().stack || "");
  const live = { listeners: [], timeouts: new Set(), intervals: new Set(), frames: new Set(), observers: new Set() };
  const P = EventTarget.prototype, add = P.addEventListener, remove = P.removeEventListener;
  const cap = (o) => typeof o === "boolean" ? o : !!(o && o.capture);
  P.addEventListener = function (type, fn, options) {
    if (fromSdk() && !live.listeners.some((l) => l.t === this && l.type === type && l.fn === fn && l.c === cap(options))) {
      live.listeners.push({ t: this, type, fn, c: cap(options) });
    }
    return add.call(this, type, fn, options);
  };
  P.removeEventListener = function (type, fn, options) {
    live.listeners = live.listeners.filter((l) => !(l.t === this && l.type === type && l.fn === fn && l.c === cap(options)));
    return remove.call(this, type, fn, options);
  };
  const st = window.setTimeout, ct = window.clearTimeout, si = window.setInterval, ci = window.clearInterval;
  window.setTimeout = function (fn, ms, ...rest) {
    if (!fromSdk()) return st(fn, ms, ...rest);
    const id = st(function () { live.timeouts.delete(id); return typeof fn === "function" ? fn.apply(this, arguments) : undefined; }, ms, ...rest);
    live.timeouts.add(id);
    return id;
  };
  window.clearTimeout = (id) => { live.timeouts.delete(id); return ct(id); };
  window.setInterval = function (fn, ms, ...rest) { const id = si(fn, ms, ...rest); if (fromSdk()) live.intervals.add(id); return id; };
  window.clearInterval = (id) => { live.intervals.delete(id); return ci(id); };
  const raf = window.requestAnimationFrame, caf = window.cancelAnimationFrame;
  window.requestAnimationFrame = (fn) => { const sdk = fromSdk(); const id = raf((t) => { live.frames.delete(id); fn(t); }); if (sdk) live.frames.add(id); return id; };
  window.cancelAnimationFrame = (id) => { live.frames.delete(id); return caf(id); };
  for (const name of ["ResizeObserver", "MutationObserver", "IntersectionObserver"]) {
    const Original = window[name];
    window[name] = class extends Original {
      observe(...args) { if (fromSdk()) live.observers.add(this); return super.observe(...args); }
      disconnect() { live.observers.delete(this); return super.disconnect(); }
    };
  }
  window.__sdkLive = () => ({
    listeners: live.listeners.map((l) => (l.t === window ? "window:" : (l.t.tagName || "?").toLowerCase() + ":") + l.type),
    timeouts: live.timeouts.size, intervals: live.intervals.size, frames: live.frames.size, observers: live.observers.size,
  });
})();`;

const HARNESS = `window.harness = {
  events: {}, handles: {}, tokenCalls: 0,
  // Every message this page receives, from any sender: what a host page could learn from the embed.
  messages: [],
  mount(o) {
    const events = (this.events[o.key] = []);
    const queue = [...(o.tokens || [])];
    const getToken = {
      endpoint: async () => { harness.tokenCalls++; const r = await fetch("/api/jupid/embed-token?" + new URLSearchParams({ partnerId: o.partnerId, ...o.user })); if (!r.ok) throw new Error("token endpoint " + r.status); return (await r.json()).token; },
      queue: async () => { harness.tokenCalls++; if (!queue.length) throw new Error("no more tokens"); return queue.shift(); },
      fail: async () => { harness.tokenCalls++; throw new Error("partner backend down"); },
      none: undefined,
    }[o.getToken || "endpoint"];
    const options = { partnerId: o.partnerId, container: o.container, token: o.token, getToken, initialPath: o.initialPath,
      title: o.title, autoResize: o.autoResize, appUrl: o.appUrl, onEvent: (e) => events.push(e) };
    const handle = JupidEmbed.mount(options);
    this.handles[o.key] = handle;
    return handle.iframe.name;
  },
};
addEventListener("message", (e) => harness.messages.push({ origin: e.origin, data: e.data }));`;

/** A partner-side user nobody has signed in with yet. */
export function newUser(name = "Ada Lovelace") {
  const id = randomBytes(5).toString("hex");
  return { sub: `user-${id}`, name, email: `${name.split(" ")[0]?.toLowerCase()}.${id}@acme.example` };
}

/** Mount in the page; returns the iframe name (carries the embed id). */
export async function mount(page: Page, options: HarnessMount): Promise<string> {
  return page.evaluate((o) => (window as unknown as { harness: { mount(o: unknown): string } }).harness.mount(o), {
    partnerId: PARTNER_ID,
    user: newUser(),
    ...options,
  });
}

export async function events(page: Page, key: string): Promise<RecordedEvent[]> {
  return page.evaluate((k) => (window as unknown as { harness: { events: Record<string, RecordedEvent[]> } }).harness.events[k] ?? [], key);
}

/** Wait until `key` has recorded an event matching `type` (and optional fields); returns all its events. */
export async function waitForEvent(
  page: Page,
  key: string,
  type: string,
  fields: Record<string, unknown> = {},
  count = 1,
  timeout = 15_000,
): Promise<RecordedEvent[]> {
  await page.waitForFunction(
    ({ key, type, fields, count }) => {
      const list = (window as unknown as { harness: { events: Record<string, RecordedEvent[]> } }).harness.events[key] ?? [];
      return list.filter((e) => e.type === type && Object.entries(fields).every(([k, v]) => e[k] === v)).length >= count;
    },
    { key, type, fields, count },
    { timeout, polling: 50 },
  );
  return events(page, key);
}

/** Call `navigate`, `signOut` or `destroy` on a mounted handle inside the page. */
export async function callHandle(page: Page, key: string, method: "navigate" | "signOut" | "destroy", arg?: string): Promise<void> {
  await page.evaluate(
    ({ key, method, arg }) => {
      const handles = (window as unknown as { harness: { handles: Record<string, Record<string, (a?: string) => void>> } }).harness
        .handles;
      handles[key]?.[method]?.(arg);
    },
    { key, method, arg },
  );
}

export const types = (list: readonly RecordedEvent[]) => list.map((e) => e.type);

export async function tokenCalls(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { harness: { tokenCalls: number } }).harness.tokenCalls);
}

/** The document currently inside the Jupid iframe of `container` (bootstrap or workspace). */
export async function frameIn(page: Page, container: string): Promise<Frame> {
  const element = await page.waitForSelector(`${container} iframe`, { state: "attached" });
  const frame = await element.contentFrame();
  if (!frame) throw new Error(`${container} iframe has no frame`);
  return frame;
}

/** Wait until the iframe in `container` shows the framed workspace at `path` (app path) and return its frame. */
export async function workspaceFrame(page: Page, container: string, path: string): Promise<Frame> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const frame = await frameIn(page, container);
    if (new URL(frame.url()).pathname.replace(/^\/embed\/[^/]+\/app/, "") === path) {
      const shown = await frame.waitForSelector("#path", { timeout: 5_000 }).catch(() => undefined);
      if (shown) return frame;
    }
    if (Date.now() > deadline) throw new Error(`${container} never showed ${path} (at ${frame.url()})`);
    await page.waitForTimeout(50);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
