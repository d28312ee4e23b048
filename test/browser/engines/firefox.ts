/**
 * Firefox ESR: Debian's `/usr/bin/firefox-esr` driven by puppeteer-core
 * over WebDriver BiDi, headless, with Firefox's default privacy settings
 * (Enhanced Tracking Protection "standard", Total Cookie Protection).
 * Profiles are BiDi user contexts: separate cookie jars and storage in one
 * browser process.
 *
 * puppeteer writes its automation prefs into the profile; none of them
 * changes cookie or storage rules in Firefox ESR 153: its
 * `browser.contentblocking.features.standard` (which asks for
 * `cookieBehavior0`, all cookies unpartitioned) is not read by this Firefox
 * any more — only `…features.strict` is — and
 * `privacy.trackingprotection.enabled: false` is the default value.
 * test/browser/engines.test.ts proves the effect rather than trusting the
 * list: a third-party cookie ends up partitioned.
 */
import puppeteer, { type Browser, type BrowserContext, type Page } from "puppeteer-core";
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

export const FIREFOX: Prerequisite = {
  what: "Firefox ESR",
  envName: "FIREFOX_PATH",
  defaultPath: "/usr/bin/firefox-esr",
  install: "apt-get install -y firefox-esr",
};

export async function launchFirefoxEngine(): Promise<Engine> {
  const executablePath = requireBinary(FIREFOX);
  const browser: Browser = await puppeteer.launch({
    browser: "firefox",
    protocol: "webDriverBiDi",
    executablePath,
    // The app's certificate is self-signed.
    acceptInsecureCerts: true,
    headless: true,
    // Firefox starts in 4–10 s on a busy 2-core machine; fail clearly before a 60 s test hook does.
    timeout: 50_000,
  });
  const version = await browser.version();
  const profiles = new Set<BrowserProfile>();
  return {
    variant: "firefox",
    description: `Firefox ${version.replace(/^firefox\//, "")}`,
    async newProfile() {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      const profile = firefoxProfile(context, page, () => profiles.delete(profile));
      profiles.add(profile);
      return profile;
    },
    async close() {
      await Promise.all([...profiles].map((p) => p.close()));
      await browser.close();
    },
  };
}

function firefoxProfile(context: BrowserContext, page: Page, onClose: () => void): BrowserProfile {
  const inFrame = async (selector: string) => {
    const element = await page.$(selector);
    const frame = await element?.contentFrame();
    await element?.dispose();
    if (!frame) throw new Error(`[firefox] no frame in ${selector}`);
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
      return pollUntil<T>("firefox", () => (frame ? profile.evaluateInFrame<T>(js, frame) : profile.evaluate<T>(js)), js, options);
    },
    async cookies(): Promise<Cookie[]> {
      const url = new URL(page.url());
      // The context's whole jar, narrowed to what the browser would send to the top page's URL.
      const list = (await context.cookies()).filter((c) => domainMatches(url.hostname, c.domain) && url.pathname.startsWith(c.path));
      return list.map((c) => ({ name: c.name, value: c.value, domain: c.domain, path: c.path, secure: c.secure, httpOnly: c.httpOnly === true, sameSite: c.sameSite }));
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

/** RFC 6265 domain-match: host-only cookies carry the bare host, domain cookies a leading dot. */
function domainMatches(host: string, cookieDomain: string): boolean {
  const domain = cookieDomain.replace(/^\./, "");
  return host === domain || host.endsWith(`.${domain}`);
}
