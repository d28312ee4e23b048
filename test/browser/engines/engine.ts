/**
 * The one interface every browser engine driver implements, so that a test
 * or the bench is written once and runs on Chromium (playwright-core),
 * Firefox ESR (puppeteer-core over WebDriver BiDi) and WebKitGTK (classic
 * W3C WebDriver). It is deliberately small: what an embed test needs is to
 * open a partner page, run script in it or in its iframe, wait for a
 * condition, and read cookies — in a fresh profile or in the same one again.
 *
 * Script is always a string holding one JavaScript *expression* (wrap
 * statements in an IIFE). A promise is awaited. The value travels as JSON,
 * so every engine returns exactly the same thing (`undefined` stays
 * `undefined`, a Date becomes its ISO string).
 */
import { existsSync } from "node:fs";
import { createServer } from "node:net";

/** Every engine variant the matrix runs. */
export const ENGINE_VARIANTS = ["chromium", "chromium-3pc-blocked", "firefox", "webkit"] as const;
export type EngineVariant = (typeof ENGINE_VARIANTS)[number];

export interface Cookie {
  readonly name: string;
  readonly value: string;
  readonly domain: string;
  readonly path: string;
  readonly secure: boolean;
  readonly httpOnly: boolean;
  /** As the engine reports it ("None", "Lax", "Strict"), when it does. */
  readonly sameSite: string | undefined;
}

export interface WaitOptions {
  /** Milliseconds before giving up (the error names the expression and its last value or error). @default 15000 */
  readonly timeout?: number;
  /** Poll inside an iframe instead of the top page: `true` for the first iframe, or a CSS selector of the iframe element. */
  readonly frame?: boolean | string;
}

/**
 * One browser profile (cookies, storage, cache) with one tab. Everything it
 * stores survives `open()` of another URL: that is the "same browser, next
 * user" case. A fresh, empty profile is {@link Engine.newProfile}.
 */
export interface BrowserProfile {
  /** Navigate the tab to `url` and wait for its load event. */
  open(url: string): Promise<void>;
  /** Evaluate `js` (an expression; a promise is awaited) in the top page; its JSON value. */
  evaluate<T = unknown>(js: string): Promise<T>;
  /**
   * Evaluate `js` inside an iframe of the top page: `frame` is a CSS selector
   * of the iframe element, default the first `iframe`. Whatever document
   * that frame shows now (it may have navigated).
   */
  evaluateInFrame<T = unknown>(js: string, frame?: string): Promise<T>;
  /**
   * Poll `js` every 50 ms until it is truthy and return that value. An error
   * while polling (a frame between two documents) counts as "not yet".
   * For waiting on events: tests never sleep.
   */
  waitFor<T = unknown>(js: string, options?: WaitOptions): Promise<T>;
  /** The cookies this profile would send to the top page's URL (the host page's own cookies). */
  cookies(): Promise<Cookie[]>;
  /** Close the tab and discard the profile. Idempotent. */
  close(): Promise<void>;
}

/** A launched browser engine: one process (or driver) per test file, profiles from it. */
export interface Engine {
  readonly variant: EngineVariant;
  /** e.g. "Chromium 156.0.8078.114, third-party cookies blocked" */
  readonly description: string;
  /** A new, empty profile (isolated cookies and storage) with one blank tab. */
  newProfile(): Promise<BrowserProfile>;
  /** Close every profile still open and the browser; stop helper processes. Idempotent. */
  close(): Promise<void>;
}

/** Thrown when an engine's binary is missing; the message says how to install it. */
export class EngineUnavailableError extends Error {
  override readonly name = "EngineUnavailableError";
}

/** A binary an engine needs: where it is by default, the variable that overrides that, the package that provides it. */
export interface Prerequisite {
  /** e.g. "Firefox ESR" */
  readonly what: string;
  /** Environment variable with another path, read at launch. */
  readonly envName: string;
  readonly defaultPath: string;
  /** e.g. "apt-get install -y firefox-esr" */
  readonly install: string;
}

/** The prerequisite's path if the file exists, else an {@link EngineUnavailableError} saying how to install it. */
export function requireBinary(prerequisite: Prerequisite): string {
  return requireFile(process.env[prerequisite.envName] || prerequisite.defaultPath, prerequisite);
}

/** `path` if it exists, else an {@link EngineUnavailableError} saying how to install `prerequisite`. */
export function requireFile(path: string, prerequisite: Prerequisite): string {
  if (existsSync(path)) return path;
  throw new EngineUnavailableError(
    `${prerequisite.what} not found at ${path}: install it: ${prerequisite.install} (or set ${prerequisite.envName})`,
  );
}

/**
 * The page-side wrapper of every evaluation: await the expression, return
 * its JSON text. `js` is trimmed of a trailing semicolon so a statement-ish
 * expression still parses.
 */
export function asJsonExpression(js: string): string {
  const expression = js.trim().replace(/;+$/, "");
  return `(async () => { const value = await (\n${expression}\n); return value === undefined ? undefined : JSON.stringify(value); })()`;
}

export function fromJson<T>(text: unknown): T {
  return (typeof text === "string" ? JSON.parse(text) : undefined) as T;
}

/** The shared polling loop behind {@link BrowserProfile.waitFor}. */
export async function pollUntil<T>(variant: EngineVariant, evaluate: () => Promise<T>, js: string, options: WaitOptions = {}): Promise<T> {
  const timeout = options.timeout ?? 15_000;
  const deadline = Date.now() + timeout;
  let last: string = "never evaluated";
  for (;;) {
    try {
      const value = await evaluate();
      if (value) return value;
      last = `last value ${JSON.stringify(value)}`;
    } catch (error) {
      last = `last error ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
    }
    if (Date.now() >= deadline) {
      const where = options.frame ? ` in frame ${options.frame === true ? "iframe" : options.frame}` : "";
      throw new Error(`[${variant}] waitFor timed out after ${timeout} ms${where}: ${js.trim().slice(0, 200)} (${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
