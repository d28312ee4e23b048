/**
 * Chromium: Debian's `/usr/bin/chromium` driven by the project's
 * playwright-core (never a downloaded browser). Two variants: the default,
 * and `--test-third-party-cookie-phaseout` (third-party cookies blocked, as
 * Chrome's tracking protection does). Profiles are browser contexts.
 */
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import {
  asJsonExpression,
  type BrowserProfile,
  type Cookie,
  type Engine,
  fromJson,
  type Prerequisite,
  pollUntil,
  requireBinary,
  type WaitOptions,
} from "./engine.ts";

export const CHROMIUM: Prerequisite = {
  what: "Chromium",
  envName: "CHROMIUM_PATH",
  defaultPath: "/usr/bin/chromium",
  install: "apt-get install -y chromium",
};
/**
 * playwright-core 1.65 launches Chromium with `--disable-features=…,ThirdPartyStoragePartitioning,…`,
 * which is not a default of any Chrome: a cross-site frame then gets no
 * localStorage/IndexedDB at all instead of a partitioned one. Chromium uses
 * the last `--disable-features` it is given, so we repeat Playwright's list
 * without that one entry. test/browser/engines.test.ts checks the effect
 * (third-party storage partitioned).
 */
const DISABLED_FEATURES = [
  "AvoidUnnecessaryBeforeUnloadCheckSync",
  "DestroyProfileOnBrowserClose",
  "HttpsUpgrades",
  "HttpsFirstBalancedModeAutoEnable",
  "LensOverlay",
  "MediaRouter",
  "PaintHolding",
  "AvoidCorsURLLoaderRestartOnRedirect",
  "OptimizationHints",
  "NetworkTimeServiceQuerying",
  "AimEnabled",
  "PreconnectToSearch",
];
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
  `--disable-features=${DISABLED_FEATURES.join(",")}`,
];
/** Chromium's switch that turns on third-party cookie blocking (the "phase-out") for testing. */
export const THIRD_PARTY_COOKIE_PHASEOUT = "--test-third-party-cookie-phaseout";

/** Launch Debian's Chromium with the harness's arguments (plus `extraArgs`). */
export async function launchChromiumBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: requireBinary(CHROMIUM), args: [...CHROMIUM_ARGS, ...extraArgs] });
}

export async function launchChromiumEngine(options: { thirdPartyCookiesBlocked: boolean }): Promise<Engine> {
  const variant = options.thirdPartyCookiesBlocked ? "chromium-3pc-blocked" : "chromium";
  const browser = await launchChromiumBrowser(options.thirdPartyCookiesBlocked ? [THIRD_PARTY_COOKIE_PHASEOUT] : []);
  const profiles = new Set<BrowserProfile>();
  return {
    variant,
    description: `Chromium ${browser.version()}${options.thirdPartyCookiesBlocked ? ", third-party cookies blocked" : ""}`,
    async newProfile() {
      // The app's certificate is self-signed; nothing else about the profile differs from a default one.
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const profile = chromiumProfile(variant, context, page, () => profiles.delete(profile));
      profiles.add(profile);
      return profile;
    },
    async close() {
      await Promise.all([...profiles].map((p) => p.close()));
      await browser.close();
    },
  };
}

function chromiumProfile(variant: Engine["variant"], context: BrowserContext, page: Page, onClose: () => void): BrowserProfile {
  const inFrame = async (selector: string) => {
    const element = await page.$(selector);
    const frame = await element?.contentFrame();
    if (!frame) throw new Error(`[${variant}] no frame in ${selector}`);
    return frame;
  };
  let closed = false;
  const profile: BrowserProfile = {
    async open(url) {
      await page.goto(url, { waitUntil: "load" });
    },
    async evaluate<T>(js: string) {
      return fromJson<T>(await page.evaluate(asJsonExpression(js)));
    },
    async evaluateInFrame<T>(js: string, frame = "iframe") {
      return fromJson<T>(await (await inFrame(frame)).evaluate(asJsonExpression(js)));
    },
    waitFor<T>(js: string, options: WaitOptions = {}) {
      const frame = options.frame === true ? "iframe" : options.frame;
      return pollUntil<T>(variant, () => (frame ? profile.evaluateInFrame<T>(js, frame) : profile.evaluate<T>(js)), js, options);
    },
    async cookies(): Promise<Cookie[]> {
      const list = await context.cookies(page.url());
      return list.map((c) => ({ name: c.name, value: c.value, domain: c.domain, path: c.path, secure: c.secure, httpOnly: c.httpOnly, sameSite: c.sameSite }));
    },
    async close() {
      if (closed) return;
      closed = true;
      onClose();
      await context.close();
    },
  };
  return profile;
}
