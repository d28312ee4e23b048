/**
 * Measurement 6: the browser handshake. Headless Chromium opens a partner
 * page on a second loopback origin (http://localhost:<port>, served here)
 * that loads embed.js from the local gateway (http://127.0.0.1:<port>, a
 * child process with in-memory stores), and times `mount()` ->
 * `authenticated` with performance.now() inside the page: iframe load, the
 * postMessage handshake, POST + GET of the session, the redirect and the
 * workspace page load.
 *
 * - "sign-in": a fresh browser context each time (no cookie, empty cache),
 *   a token minted for the run handed to mount() — a partner page rendered
 *   with a token.
 * - "live session": in the same context, destroy() and mount() again: the
 *   frame finds the session cookie and skips the token.
 * - baseline: a plain cross-origin iframe of the gateway's embed page, from
 *   insertion to its load event (one navigation, no SDK).
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { partnerInput, testEnvironment } from "../test/fixtures/partners.ts";
import { mintToken } from "../test/fixtures/tokens.ts";
import { startChildGateway } from "./gateway-process.ts";
import { CHROMIUM_PATH, launchChromium } from "../test/browser/support.ts";
import type { Measurement } from "./report.ts";
import { ms, ratio, summarize } from "./stats.ts";

const CHROMIUM = CHROMIUM_PATH;
const PARTNER_ID = "bench-browser";
const GOAL_MS = 150;

export interface BrowserOptions {
  readonly runs?: number;
}

interface MountTiming {
  readonly ms: number;
  /** mount() -> `ready` (the frame loaded and answered the handshake). */
  readonly readyMs: number;
  /** performance.timeOrigin + the mount() time: the browser's epoch ms, the clock of request timings. */
  readonly startEpoch: number;
  readonly firstRun: boolean;
}

/*
 * The in-page code is plain JavaScript text: functions compiled by tsx would
 * carry helpers (__name) that do not exist in the page.
 */

/** Insert a cross-origin iframe of `src`; resolves with ms to its load event. */
const IFRAME_LOAD_IN_PAGE = `(src) => new Promise((resolve, reject) => {
  const frame = document.createElement("iframe");
  const started = performance.now();
  frame.onload = () => { resolve(performance.now() - started); frame.remove(); };
  setTimeout(() => reject(new Error("iframe did not load within 10 s")), 10000);
  frame.src = src;
  document.body.appendChild(frame);
})`;

/** mount() and resolve with ms to \`authenticated\`; any error or authRequired rejects. getToken must not be needed. */
const MOUNT_IN_PAGE = `({ partnerId, tokenValue }) => new Promise((resolve, reject) => {
  const started = performance.now();
  const handle = window.JupidEmbed.mount({
    partnerId,
    container: "#jupid",
    ...(tokenValue ? { token: tokenValue } : {}),
    getToken: () => Promise.reject(new Error("getToken called: the live session was not used")),
  });
  window.__benchHandle = handle;
  let readyMs = NaN;
  const timer = setTimeout(() => reject(new Error("no authenticated within 15 s")), 15000);
  handle.on("ready", () => { readyMs = performance.now() - started; });
  handle.on("authenticated", (event) => {
    clearTimeout(timer);
    resolve({ ms: performance.now() - started, readyMs, firstRun: event.firstRun, startEpoch: performance.timeOrigin + started });
  });
  handle.on("error", (event) => { clearTimeout(timer); reject(new Error("error " + event.code + ": " + event.message)); });
  handle.on("authRequired", (event) => { clearTimeout(timer); reject(new Error("authRequired " + event.code)); });
})`;

const inPage = (fn: string, arg: unknown) => `(${fn})(${JSON.stringify(arg)})`;

interface TimedRequest {
  readonly what: string;
  /** Epoch ms (browser clock). */
  readonly start: number;
  readonly end: number;
}

/** The sign-in's time line, cut at the gateway requests the frame makes (ms, one run). */
const SEGMENTS = [
  "mount → frame request sent",
  "GET /embed/{id}",
  "frame page → ready",
  "ready → POST sent",
  "POST session",
  "GET session (cookie check)",
  "redirect + GET /app/…",
  "workspace page → authenticated",
] as const;

function waterfall(timing: MountTiming, requests: readonly TimedRequest[]): number[] | undefined {
  // By start time: a page's response can "end" (last bytes accounted) after its inline script already ran.
  const after = requests.filter((r) => r.start >= timing.startEpoch - 1 && r.start <= timing.startEpoch + timing.ms);
  const find = (prefix: string, from = 0) => after.find((r) => r.what.startsWith(prefix) && r.start >= from);
  const page = find("GET /embed/");
  const post = find("POST /embed/");
  const check = post && find("GET /embed/", post.start);
  const app = check && find("GET /app", check.start);
  if (!page || !post || !check || !app) return undefined;
  const ready = timing.startEpoch + timing.readyMs;
  const end = timing.startEpoch + timing.ms;
  return [
    page.start - timing.startEpoch,
    page.end - page.start,
    ready - page.end,
    post.start - ready,
    post.end - post.start,
    check.end - post.end,
    app.end - check.end,
    end - app.end,
  ];
}

async function listen(server: Server, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export async function measureBrowserHandshake(options: BrowserOptions = {}): Promise<Measurement> {
  const runs = options.runs ?? 20;
  const secret = randomBytes(36).toString("base64url");
  let gatewayUrl = "";
  // The partner site: one page that loads embed.js from the gateway and has a container with a height.
  const partner = createServer((req, res) => {
    if (req.url !== "/") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
    res.end(
      `<!doctype html><html><head><meta charset="utf-8"><title>bench partner</title><script src="${gatewayUrl}/embed.js"></script></head>` +
        `<body style="margin:0"><div id="jupid" style="height:600px"></div></body></html>`,
    );
  });
  const partnerPort = await listen(partner, "127.0.0.1");
  const partnerUrl = `http://localhost:${partnerPort}`;
  const config = testEnvironment([partnerInput(PARTNER_ID, { allowedOrigins: [partnerUrl] })], { cacheSeconds: 60 });
  const gateway = await startChildGateway({ spec: { mode: "memory", config, secrets: { [PARTNER_ID]: secret } } });
  gatewayUrl = gateway.url;
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const sub = `browser-user-${randomBytes(6).toString("hex")}`;
    const token = () => mintToken(PARTNER_ID, { secret, claims: { sub } }, Math.floor(Date.now() / 1000));

    const signIn: number[] = [];
    const signInReady: number[] = [];
    const liveSession: number[] = [];
    const iframeLoad: number[] = [];
    const firstRuns: boolean[] = [];
    const segments: number[][] = SEGMENTS.map(() => []);
    // Run 0 warms the gateway, the browser and creates the user; it is not counted.
    for (let run = 0; run <= runs; run++) {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const requests: TimedRequest[] = [];
        page.on("requestfinished", (request) => {
          const t = request.timing();
          if (!request.url().startsWith(gatewayUrl) || t.responseEnd < 0) return;
          requests.push({ what: `${request.method()} ${new URL(request.url()).pathname}`, start: t.startTime, end: t.startTime + t.responseEnd });
        });
        await page.goto(partnerUrl, { waitUntil: "load" });
        const baseline = Number(await page.evaluate(inPage(IFRAME_LOAD_IN_PAGE, `${gatewayUrl}/embed/${PARTNER_ID}`)));
        const mountOnce = async (tokenValue: string | undefined) =>
          (await page.evaluate(inPage(MOUNT_IN_PAGE, { partnerId: PARTNER_ID, tokenValue }))) as MountTiming;
        const first = await mountOnce(token());
        await page.evaluate("window.__benchHandle.destroy()");
        const again = await mountOnce(undefined);
        // By now every request event of the first mount has arrived.
        const cuts = waterfall(first, requests);
        if (run > 0) {
          signIn.push(first.ms);
          signInReady.push(first.readyMs);
          firstRuns.push(first.firstRun);
          liveSession.push(again.ms);
          iframeLoad.push(baseline);
          for (const [i, value] of (cuts ?? []).entries()) segments[i]?.push(value);
        }
      } finally {
        await context.close();
      }
    }
    const version = browser.version();
    const signInStats = summarize(signIn);
    const liveStats = summarize(liveSession);
    const baseStats = summarize(iframeLoad);
    const readyStats = summarize(signInReady);
    const segmentMedians = Object.fromEntries(SEGMENTS.map((name, i) => [name, summarize(segments[i] ?? []).median]));
    return {
      rows: [
        {
          name: "browser: mount() → authenticated, sign-in",
          median: ms(signInStats.median),
          p99: ms(signInStats.p99),
          ratio: ratio(signInStats.median, baseStats.median, "iframe load"),
          goal: `< ${GOAL_MS} ms`,
          pass: signInStats.median < GOAL_MS,
          value: signInStats.median,
          unit: "ms",
        },
        {
          name: "browser: mount() → authenticated, live session",
          median: ms(liveStats.median),
          p99: ms(liveStats.p99),
          ratio: ratio(liveStats.median, baseStats.median, "iframe load"),
          goal: "reference",
          pass: undefined,
          value: liveStats.median,
          unit: "ms",
        },
        {
          name: "browser: bare cross-origin iframe load",
          median: ms(baseStats.median),
          p99: ms(baseStats.p99),
          ratio: "1.00× iframe load",
          goal: "reference",
          pass: undefined,
          value: baseStats.median,
          unit: "ms",
        },
      ],
      data: {
        runs,
        chromium: version,
        partnerOrigin: "http://localhost:<port>",
        gatewayOrigin: "http://127.0.0.1:<port>",
        signInMs: signInStats,
        signInReadyMs: readyStats,
        signInWaterfallMedianMs: segmentMedians,
        waterfallRuns: segments[0]?.length ?? 0,
        liveSessionMs: liveStats,
        iframeLoadMs: baseStats,
        firstRunCount: firstRuns.filter(Boolean).length,
      },
      notes: [
        `browser: headless Chromium ${version} (${CHROMIUM}); ${runs} runs after 1 warm-up, each in a fresh context; timed in the page with performance.now(); p99 column = slowest of ${runs}. Returning user (firstRun false) signing in with a token passed to mount(). Sign-in split: mount() → \`ready\` (frame loaded, handshake answered) ${ms(readyStats.median)}, \`ready\` → \`authenticated\` (POST + GET session, redirect, workspace load) ${ms(signInStats.median - readyStats.median)} (medians).`,
        `browser: sign-in time line, median per step over ${segments[0]?.length ?? 0} runs (request times from Chromium's network timing): ${SEGMENTS.map((name) => `${name} ${ms(segmentMedians[name] ?? Number.NaN)}`).join("; ")}.`,
      ],
    };
  } finally {
    await browser?.close();
    await gateway.stop();
    await new Promise<void>((resolve) => partner.close(() => resolve()));
  }
}
