/**
 * The browser engines of the real-browser matrix, behind one interface
 * ({@link Engine}, {@link BrowserProfile}): launch a variant by name.
 *
 *   const engine = await launchEngine("webkit");
 *   const profile = await engine.newProfile();
 *   await profile.open(`${stack.harnessUrl}/harness`);
 *   await profile.waitFor(`harness.events.a?.some((e) => e.type === "authenticated")`);
 *   await engine.close();
 */
import { launchChromiumEngine } from "./chromium.ts";
import type { Engine, EngineVariant } from "./engine.ts";
import { launchFirefoxEngine } from "./firefox.ts";
import { launchWebKitEngine } from "./webkit.ts";

export type { BrowserProfile, Cookie, Engine, EngineVariant, WaitOptions } from "./engine.ts";
export { ENGINE_VARIANTS, EngineUnavailableError } from "./engine.ts";

/**
 * Launch one engine variant (one browser process, or for WebKit an Xvfb plus
 * a first driver session). A missing binary throws an
 * {@link EngineUnavailableError} that says which package to install.
 */
export function launchEngine(variant: EngineVariant): Promise<Engine> {
  switch (variant) {
    case "chromium":
      return launchChromiumEngine({ thirdPartyCookiesBlocked: false });
    case "chromium-3pc-blocked":
      return launchChromiumEngine({ thirdPartyCookiesBlocked: true });
    case "firefox":
      return launchFirefoxEngine();
    case "webkit":
      return launchWebKitEngine();
  }
}
