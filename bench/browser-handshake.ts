/**
 * Measurement 6: the browser handshake. Headless Chromium opens a partner
 * page on a second loopback origin (http://localhost:<port>, served here)
 * that loads embed.js from the local gateway (http://127.0.0.1:<port>, a
 * child process with in-memory stores), and times `mount()` ->
 * `authenticated` with performance.now() inside the page: iframe load, the
 * postMessage handshake, the DPoP-proven sign-in POST, the workspace page load.
 *
 * - "sign-in": a fresh browser context each time (no cookie, empty cache),
 *   a token minted for the run handed to mount() — a partner page rendered
 *   with a token.
 * - "getToken": in the same page, destroy() and mount() again with getToken
 *   only (every mount starts from a token: ADR 0004), called at mount() while the frame loads.
 * - baseline: a plain cross-origin iframe of the gateway's embed page, from
 *   insertion to its load event (one navigation, no SDK).
 * - per engine (test/browser/engines/: Chromium, Chromium with third-party
 *   cookies blocked, Firefox ESR, WebKitGTK): the same sign-in with the app
 *   on https (self-signed certificate, as production is https), a fresh
 *   profile per mount; one row per engine with median, p90 and p99. An engine
 *   whose mount does not reach `authenticated` gets a row naming the failure.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { type BrowserProfile, ENGINE_VARIANTS, type EngineVariant, launchEngine } from "../test/browser/engines/index.ts";
import { launchChromium } from "../test/browser/support.ts";
import { partnerInput, testEnvironment } from "../test/fixtures/partners.ts";
import { mintToken } from "../test/fixtures/tokens.ts";
import { startChildGateway } from "./gateway-process.ts";
import type { Measurement, Row } from "./report.ts";
import { ms, ratio, type Summary, summarize } from "./stats.ts";

const PARTNER_ID = "bench-browser";
const GOAL_MS = 150;
/** Issue 10's bar for every engine: no slower than today's Chromium sign-in by more than 20 %. */
const ENGINE_GOAL_FACTOR = 1.2;

export interface BrowserOptions {
  /** Sign-ins measured in Chromium over http (the reference). @default 20 */
  readonly runs?: number;
  /** Sign-ins measured per engine over https. @default 10 */
  readonly engineRuns?: number;
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

/** mount() and resolve with ms to \`authenticated\`; any error or authRequired rejects. With \`tokenValue\`, getToken must not be needed. */
const MOUNT_IN_PAGE = `({ partnerId, tokenValue, nextToken }) => new Promise((resolve, reject) => {
  const started = performance.now();
  const handle = window.JupidEmbed.mount({
    partnerId,
    container: "#jupid",
    ...(tokenValue ? { token: tokenValue } : {}),
    getToken: () => (tokenValue ? Promise.reject(new Error("getToken called although a token was given")) : Promise.resolve(nextToken)),
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
  "POST session (DPoP)",
  "redirect + GET /embed/{id}/app/…",
  "workspace page → authenticated",
] as const;

function waterfall(timing: MountTiming, requests: readonly TimedRequest[]): number[] | undefined {
  // By start time: a page's response can "end" (last bytes accounted) after its inline script already ran.
  const after = requests.filter((r) => r.start >= timing.startEpoch - 1 && r.start <= timing.startEpoch + timing.ms);
  const find = (prefix: string, from = 0) => after.find((r) => r.what.startsWith(prefix) && r.start >= from);
  const page = find("GET /embed/");
  const post = find("POST /embed/");
  const app = post && after.find((r) => /^GET \/embed\/[^/]+\/app/.test(r.what) && r.start >= post.start);
  if (!page || !post || !app) return undefined;
  const ready = timing.startEpoch + timing.readyMs;
  const end = timing.startEpoch + timing.ms;
  return [
    page.start - timing.startEpoch,
    page.end - page.start,
    ready - page.end,
    post.start - ready,
    post.end - post.start,
    app.end - post.end,
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
  const reference = await measureChromiumHttp(options.runs ?? 20);
  const signInMedian = (reference.data.signInMs as Summary).median;
  const engines = await measureEngines(options.engineRuns ?? 10, signInMedian);
  return {
    rows: [...reference.rows, ...engines.rows],
    data: { ...reference.data, engines: engines.data },
    notes: [...reference.notes, ...engines.notes],
  };
}

/** The partner site: one http://localhost page that loads embed.js from the gateway and has a container with a height. */
async function startPartnerSite(): Promise<{ url: string; setGateway(url: string): void; close(): Promise<void> }> {
  let gatewayUrl = "";
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
  const port = await listen(partner, "127.0.0.1");
  return {
    url: `http://localhost:${port}`,
    setGateway(url) {
      gatewayUrl = url;
    },
    close: () => new Promise<void>((resolve) => partner.close(() => resolve())),
  };
}

/** In-page outcome of one mount: a timing, or why it did not reach `authenticated`. */
type MountOutcome = ({ ok: true } & MountTiming) | { ok: false; error: string };

/** Like MOUNT_IN_PAGE but resolving with the failure instead of rejecting, so that a failing engine gets a row. */
const MOUNT_OUTCOME_IN_PAGE = `(${MOUNT_IN_PAGE})(ARGS).then((timing) => ({ ok: true, ...timing }), (error) => ({ ok: false, error: String(error.message || error) }))`;

interface EngineResult {
  readonly variant: EngineVariant;
  readonly description?: string;
  readonly launchMs?: number;
  readonly profileMs?: Summary;
  readonly signInMs?: Summary;
  readonly iframeLoadMs?: Summary;
  /** Mounts that reached `authenticated` before the first failure (warm-up included). */
  readonly authenticated: number;
  readonly failure?: string;
}

/**
 * Per engine: one launch, then 1 warm-up + `runs` sign-ins, each in a fresh
 * profile (no cookie, empty cache), app on https. The first failing mount
 * ends the engine's loop: its row names the failure.
 */
async function measureEngines(runs: number, chromiumHttpMedian: number): Promise<Measurement> {
  const secret = randomBytes(36).toString("base64url");
  const partner = await startPartnerSite();
  const config = testEnvironment([partnerInput(PARTNER_ID, { allowedOrigins: [partner.url] })], { cacheSeconds: 60 });
  const gateway = await startChildGateway({ spec: { mode: "memory", config, secrets: { [PARTNER_ID]: secret }, tls: true } });
  partner.setGateway(gateway.url);
  const results: EngineResult[] = [];
  try {
    const sub = `engine-user-${randomBytes(6).toString("hex")}`;
    const token = () => mintToken(PARTNER_ID, { secret, claims: { sub } }, Math.floor(Date.now() / 1000));
    for (const variant of ENGINE_VARIANTS) results.push(await measureEngine(variant, runs, partner.url, gateway.url, token));
  } finally {
    await gateway.stop();
    await partner.close();
  }
  const goalMs = chromiumHttpMedian * ENGINE_GOAL_FACTOR;
  const goal = `< ${ms(goalMs)} (${ENGINE_GOAL_FACTOR}× Chromium http)`;
  const rows: Row[] = results.map((r) => {
    const name = `browser ${r.variant}: mount() → authenticated, https`;
    if (!r.signInMs) {
      return { name, median: "—", p90: "—", p99: "—", ratio: "—", goal: `fails: ${r.failure ?? "no mount measured"}`.slice(0, 90), pass: false };
    }
    return {
      name,
      median: ms(r.signInMs.median),
      p90: ms(r.signInMs.p90),
      p99: ms(r.signInMs.p99),
      ratio: ratio(r.signInMs.median, r.iframeLoadMs?.median ?? Number.NaN, "iframe load"),
      goal,
      pass: r.signInMs.median < goalMs,
      value: r.signInMs.median,
      unit: "ms",
    };
  });
  return {
    rows,
    data: { runs, partnerOrigin: "http://localhost:<port>", gatewayOrigin: "https://127.0.0.1:<port>", results },
    notes: [
      `browser engines: ${runs} sign-ins per engine after 1 warm-up, each in a fresh profile, app on https (self-signed certificate), timed in the page; p99 = slowest of ${runs}. ${results
        .map(
          (r) =>
            `${r.description ?? r.variant}: launch ${r.launchMs === undefined ? "—" : ms(r.launchMs)}, new profile ${ms(r.profileMs?.median ?? Number.NaN)}` +
            (r.failure ? `, failed after ${r.authenticated} authenticated mount(s): ${r.failure}` : ""),
        )
        .join("; ")}.`,
    ],
  };
}

async function measureEngine(
  variant: EngineVariant,
  runs: number,
  partnerUrl: string,
  gatewayUrl: string,
  token: () => string,
): Promise<EngineResult> {
  const started = performance.now();
  let engine: Awaited<ReturnType<typeof launchEngine>>;
  try {
    engine = await launchEngine(variant);
  } catch (error) {
    return { variant, authenticated: 0, failure: `launch: ${error instanceof Error ? error.message : String(error)}` };
  }
  const launchMs = performance.now() - started;
  const signIn: number[] = [];
  const iframeLoad: number[] = [];
  const profileMs: number[] = [];
  let authenticated = 0;
  let failure: string | undefined;
  try {
    for (let run = 0; run <= runs && !failure; run++) {
      const profileStarted = performance.now();
      const profile: BrowserProfile = await engine.newProfile();
      // Run 0's profile may be one the launch already made (WebKit): only later ones count.
      if (run > 0) profileMs.push(performance.now() - profileStarted);
      try {
        await profile.open(partnerUrl);
        const baseline = await profile.evaluate<number>(`(${IFRAME_LOAD_IN_PAGE})(${JSON.stringify(`${gatewayUrl}/embed/${PARTNER_ID}`)})`);
        const outcome = await profile.evaluate<MountOutcome>(
          MOUNT_OUTCOME_IN_PAGE.replace("ARGS", JSON.stringify({ partnerId: PARTNER_ID, tokenValue: token() })),
        );
        if (!outcome.ok) {
          failure = outcome.error;
        } else {
          authenticated++;
          if (run > 0) {
            signIn.push(outcome.ms);
            iframeLoad.push(baseline);
          }
        }
      } finally {
        await profile.close();
      }
    }
  } catch (error) {
    failure = error instanceof Error ? error.message.split("\n")[0] : String(error);
  } finally {
    await engine.close();
  }
  return {
    variant,
    description: engine.description,
    launchMs,
    profileMs: summarize(profileMs),
    ...(signIn.length > 0 && !failure ? { signInMs: summarize(signIn), iframeLoadMs: summarize(iframeLoad) } : {}),
    authenticated,
    ...(failure ? { failure } : {}),
  };
}

async function measureChromiumHttp(runs: number): Promise<Measurement> {
  const secret = randomBytes(36).toString("base64url");
  const partner = await startPartnerSite();
  const partnerUrl = partner.url;
  const config = testEnvironment([partnerInput(PARTNER_ID, { allowedOrigins: [partnerUrl] })], { cacheSeconds: 60 });
  const gateway = await startChildGateway({ spec: { mode: "memory", config, secrets: { [PARTNER_ID]: secret } } });
  const gatewayUrl = gateway.url;
  partner.setGateway(gatewayUrl);
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const sub = `browser-user-${randomBytes(6).toString("hex")}`;
    const token = () => mintToken(PARTNER_ID, { secret, claims: { sub } }, Math.floor(Date.now() / 1000));

    const signIn: number[] = [];
    const signInReady: number[] = [];
    const viaGetToken: number[] = [];
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
        const mountOnce = async (tokenValue: string | undefined, nextToken?: string) =>
          (await page.evaluate(inPage(MOUNT_IN_PAGE, { partnerId: PARTNER_ID, tokenValue, nextToken }))) as MountTiming;
        const first = await mountOnce(token());
        await page.evaluate("window.__benchHandle.destroy()");
        const again = await mountOnce(undefined, token());
        // By now every request event of the first mount has arrived.
        const cuts = waterfall(first, requests);
        if (run > 0) {
          signIn.push(first.ms);
          signInReady.push(first.readyMs);
          firstRuns.push(first.firstRun);
          viaGetToken.push(again.ms);
          iframeLoad.push(baseline);
          for (const [i, value] of (cuts ?? []).entries()) segments[i]?.push(value);
        }
      } finally {
        await context.close();
      }
    }
    const version = browser.version();
    const signInStats = summarize(signIn);
    const getTokenStats = summarize(viaGetToken);
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
          name: "browser: mount() → authenticated, getToken (same page)",
          median: ms(getTokenStats.median),
          p99: ms(getTokenStats.p99),
          ratio: ratio(getTokenStats.median, baseStats.median, "iframe load"),
          goal: "reference",
          pass: undefined,
          value: getTokenStats.median,
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
        getTokenMs: getTokenStats,
        iframeLoadMs: baseStats,
        firstRunCount: firstRuns.filter(Boolean).length,
      },
      notes: [
        `browser: headless Chromium ${version} over http; ${runs} runs after 1 warm-up, each in a fresh context; timed in the page with performance.now(); p99 column = slowest of ${runs}. Returning user (firstRun false) signing in with a token passed to mount(). Sign-in split: mount() → \`ready\` (frame loaded, handshake answered) ${ms(readyStats.median)}, \`ready\` → \`authenticated\` (sign-in POST, workspace load) ${ms(signInStats.median - readyStats.median)} (medians).`,
        `browser: sign-in time line, median per step over ${segments[0]?.length ?? 0} runs (request times from Chromium's network timing): ${SEGMENTS.map((name) => `${name} ${ms(segmentMedians[name] ?? Number.NaN)}`).join("; ")}.`,
      ],
    };
  } finally {
    await browser?.close();
    await gateway.stop();
    await partner.close();
  }
}
