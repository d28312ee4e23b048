/**
 * WebKitGTK, the engine of Safari: Debian's `WebKitWebDriver`
 * (webkit2gtk-driver) driving the MiniBrowser of libwebkit2gtk-4.1-0 over
 * classic W3C WebDriver ({@link WebDriverSession}). It has no headless mode,
 * so without a `DISPLAY` the engine starts its own Xvfb and stops it in
 * `close()`. Each profile is its own driver process and session: an
 * automation MiniBrowser starts with empty, ephemeral website data, so a new
 * session is a fresh profile (≈2 s here), and one session reused is "the same
 * browser".
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  asJsonExpression,
  type BrowserProfile,
  type Cookie,
  type Engine,
  EngineUnavailableError,
  freePort,
  fromJson,
  type Prerequisite,
  pollUntil,
  requireBinary,
  requireFile,
  type WaitOptions,
} from "./engine.ts";
import { driverReady, WebDriverError, WebDriverSession } from "./webdriver.ts";

const INSTALL = "apt-get install -y webkit2gtk-driver";
/** New Session normally takes 1–2 s here (MiniBrowser start-up); far longer means it will not come. */
const NEW_SESSION_TIMEOUT_MS = 45_000;
export const WEBKIT_DRIVER: Prerequisite = {
  what: "WebKitWebDriver",
  envName: "WEBKIT_DRIVER_PATH",
  defaultPath: "/usr/bin/WebKitWebDriver",
  install: INSTALL,
};
/** Its default path is not fixed (it is under the multiarch lib dir): it comes from `dpkg -L` of {@link WEBKIT_PACKAGE}. */
export const MINIBROWSER: Prerequisite = { what: "WebKitGTK's MiniBrowser", envName: "WEBKIT_MINIBROWSER", defaultPath: "", install: INSTALL };
export const XVFB: Prerequisite = { what: "Xvfb", envName: "XVFB_PATH", defaultPath: "/usr/bin/Xvfb", install: "apt-get install -y xvfb" };
/** The Debian package that ships WebKitGTK and its MiniBrowser (webkit2gtk-driver depends on it). */
export const WEBKIT_PACKAGE = "libwebkit2gtk-4.1-0";

/** The MiniBrowser binary of Debian's WebKitGTK, from the package's file list (WEBKIT_MINIBROWSER overrides). */
export function miniBrowserPath(): string {
  const override = process.env[MINIBROWSER.envName];
  if (override) return requireFile(override, MINIBROWSER);
  let files = "";
  try {
    files = execFileSync("dpkg", ["-L", WEBKIT_PACKAGE], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    throw new EngineUnavailableError(`${MINIBROWSER.what} not found: ${WEBKIT_PACKAGE} is not installed: install it: ${INSTALL} (or set ${MINIBROWSER.envName})`);
  }
  const path = files.split("\n").find((line) => line.endsWith("/MiniBrowser"));
  if (!path) throw new EngineUnavailableError(`${MINIBROWSER.what} not found: ${WEBKIT_PACKAGE} lists none: install it: ${INSTALL} (or set ${MINIBROWSER.envName})`);
  return requireFile(path, MINIBROWSER);
}

/** Child processes still running, killed if the test process exits without closing the engine. */
const running = new Set<ChildProcess>();
/** Children started in their own process group (drivers: the browser they launch belongs to it). */
const groupLeaders = new WeakSet<ChildProcess>();
process.once("exit", () => {
  for (const child of running) signal(child, "SIGKILL");
});

function track(child: ChildProcess, options: { group?: boolean } = {}): ChildProcess {
  running.add(child);
  if (options.group) groupLeaders.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    if (groupLeaders.has(child) && child.pid) process.kill(-child.pid, name);
    else child.kill(name);
  } catch {
    // already gone
  }
}

/** Stop a child we started (a driver with its whole process group), SIGKILL after 5 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    if (groupLeaders.has(child)) signal(child, "SIGKILL"); // the group may outlive its leader
    return;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  signal(child, "SIGTERM");
  const timer = setTimeout(() => signal(child, "SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * A virtual X display on a number Xvfb picks itself (`-displayfd`: it writes
 * the number once it accepts clients, so there is no race for a free one).
 */
async function startXvfb(): Promise<{ display: string; process: ChildProcess }> {
  const binary = requireBinary(XVFB);
  const child = track(spawn(binary, ["-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1280x1024x24"], { stdio: ["ignore", "ignore", "pipe", "pipe"] }));
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  const display = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      signal(child, "SIGKILL");
      reject(new Error(`Xvfb gave no display within 10 s: ${stderr}`));
    }, 10_000);
    (child.stdio[3] as NodeJS.ReadableStream).setEncoding("utf8");
    (child.stdio[3] as NodeJS.ReadableStream).on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(`:${out.trim()}`);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}) before giving a display: ${stderr}`));
    });
  });
  return { display, process: child };
}

export async function launchWebKitEngine(): Promise<Engine> {
  const driverPath = requireBinary(WEBKIT_DRIVER);
  const binary = miniBrowserPath();
  const xvfb = process.env.DISPLAY ? undefined : await startXvfb();
  const display = process.env.DISPLAY ?? (xvfb?.display as string);
  const profiles = new Set<BrowserProfile>();
  let version = "";

  /** One driver process (its own process group, so MiniBrowser and its helpers go with it) and one session. */
  const startSession = async (): Promise<BrowserProfile> => {
    const port = await freePort();
    const driver = track(
      spawn(driverPath, [`--port=${port}`], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, DISPLAY: display }, detached: true }),
      { group: true },
    );
    let stderr = "";
    driver.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 10_000;
      while (!(await driverReady(baseUrl))) {
        if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited (${driver.exitCode}): ${stderr}`);
        if (Date.now() > deadline) throw new Error(`WebKitWebDriver not ready within 10 s: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const session = await WebDriverSession.start(
        baseUrl,
        {
          "webkitgtk:browserOptions": { binary, args: ["--automation"] },
          // The app's certificate is self-signed.
          acceptInsecureCerts: true,
        },
        NEW_SESSION_TIMEOUT_MS,
      );
      await session.setTimeouts({ script: 30_000, pageLoad: 30_000 });
      version ||= String(session.capabilities.browserVersion ?? "");
      const profile = webkitProfile(session, async () => {
        profiles.delete(profile);
        await session.delete().catch(() => undefined);
        await stop(driver);
      });
      profiles.add(profile);
      return profile;
    } catch (error) {
      await stop(driver);
      throw new Error(`[webkit] no WebDriver session: ${error instanceof Error ? error.message : String(error)}${stderr ? ` (driver: ${stderr.trim().slice(-300)})` : ""}`, { cause: error });
    }
  };
  // Under heavy load a MiniBrowser has been seen never to connect to its driver: one more try with a new driver.
  const newProfile = () => startSession().catch(() => startSession());

  // The first session proves the set-up works (and tells the version); it is the first profile handed out.
  let spare: BrowserProfile | undefined = await newProfile().catch(async (error: unknown) => {
    if (xvfb) await stop(xvfb.process);
    throw error;
  });
  return {
    variant: "webkit",
    description: `WebKitGTK ${version} (MiniBrowser${xvfb ? `, Xvfb ${display}` : `, DISPLAY ${display}`})`,
    newProfile() {
      const ready = spare;
      spare = undefined;
      return ready ? Promise.resolve(ready) : newProfile();
    },
    async close() {
      spare = undefined;
      await Promise.all([...profiles].map((p) => p.close()));
      if (xvfb) await stop(xvfb.process);
    },
  };
}

function webkitProfile(session: WebDriverSession, dispose: () => Promise<void>): BrowserProfile {
  // One command sequence at a time: a frame switch must not interleave with another evaluation.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const labelled = () =>
      work().catch((error: unknown) => {
        throw error instanceof WebDriverError ? new Error(`[webkit] ${error.message}`, { cause: error }) : error;
      });
    const result = queue.then(labelled, labelled);
    queue = result.catch(() => undefined);
    return result;
  };
  const run = async <T>(js: string) => fromJson<T>(await session.executeScript<unknown>(`return ${asJsonExpression(js)};`));
  let closed: Promise<void> | undefined;
  const profile: BrowserProfile = {
    open: (url) => serial(() => session.navigate(url)),
    evaluate: <T>(js: string) => serial(() => run<T>(js)),
    evaluateInFrame: <T>(js: string, frame = "iframe") =>
      serial(async () => {
        const element = await session.findElement(frame).catch((error: unknown) => {
          throw error instanceof WebDriverError && error.error === "no such element" ? new Error(`[webkit] no frame in ${frame}`) : error;
        });
        await session.switchToFrame(element);
        try {
          return await run<T>(js);
        } finally {
          await session.switchToFrame(null);
        }
      }),
    waitFor<T>(js: string, options: WaitOptions = {}) {
      const frame = options.frame === true ? "iframe" : options.frame;
      return pollUntil<T>("webkit", () => (frame ? profile.evaluateInFrame<T>(js, frame) : profile.evaluate<T>(js)), js, options);
    },
    cookies: () =>
      serial(async (): Promise<Cookie[]> =>
        (await session.cookies()).map((c) => ({
          name: c.name,
          value: c.value,
          domain: c.domain ?? "",
          path: c.path ?? "/",
          secure: c.secure === true,
          httpOnly: c.httpOnly === true,
          sameSite: c.sameSite,
        })),
      ),
    close() {
      closed ??= serial(dispose);
      return closed;
    },
  };
  return profile;
}
