/**
 * The AWS emulator behind the contract and integration suites.
 *
 * If `AWS_ENDPOINT_URL` is already set, that endpoint is used as it is
 * (LocalStack, MiniStack or anything else that speaks the AWS APIs). Otherwise
 * the harness provisions MiniStack itself: a project-local Python venv
 * (`.venv-ministack`) holding the version pinned in `ministack-version.txt`,
 * started on 127.0.0.1 and stopped again by its process id.
 *
 * Helpers used inside test files ({@link emulatorEndpoint},
 * {@link emulatorLogTail}, {@link resetEmulator}) read what the global setup
 * put into the environment, so they work in every worker.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The project-local venv; `MINISTACK_VENV` may point elsewhere (e.g. a CI cache directory). */
export const VENV_DIR = resolve(REPO_ROOT, process.env.MINISTACK_VENV ?? ".venv-ministack");
export const CACHE_DIR = join(REPO_ROOT, ".cache");

/** The pinned MiniStack version: the one line of test/support/ministack-version.txt (also read by .ci/run). */
export const MINISTACK_VERSION = readFileSync(join(REPO_ROOT, "test/support/ministack-version.txt"), "utf8").trim();

/** The preferred port (MiniStack's and LocalStack's default); any free port is used when it is taken. */
export const PREFERRED_PORT = 4566;

/** Environment variable naming the emulator's log file (set only when the harness started the emulator). */
export const LOG_FILE_ENV = "JUPID_EMULATOR_LOG";
/** Environment variable set to "1" when the harness started the emulator (and may reset it). */
export const OWNED_ENV = "JUPID_EMULATOR_OWNED";

const VENV_PYTHON = join(VENV_DIR, "bin", "python");

/** The endpoint every AWS SDK client in the tests talks to; throws when no emulator was set up. */
export function emulatorEndpoint(): string {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint) {
    throw new Error(
      "AWS_ENDPOINT_URL is not set: the emulator global setup (test/support/emulator-setup.ts) did not run for this project",
    );
  }
  return endpoint;
}

/** The last `lines` lines of the emulator log, or a note saying why there is none. */
export function emulatorLogTail(lines = 40): string {
  const file = process.env[LOG_FILE_ENV];
  if (!file) return `(no emulator log: the emulator at ${process.env.AWS_ENDPOINT_URL ?? "?"} was not started by the harness)`;
  try {
    const text = readFileSync(file, "utf8").trimEnd().split("\n");
    return `--- last ${Math.min(lines, text.length)} lines of ${file} ---\n${text.slice(-lines).join("\n")}`;
  } catch (error) {
    return `(cannot read ${file}: ${(error as Error).message})`;
  }
}

/**
 * Wipe all emulator state. Only for the MiniStack the harness started: an
 * endpoint handed in through AWS_ENDPOINT_URL is shared, so tests there must
 * rely on their unique resource names instead.
 */
export async function resetEmulator(endpoint = emulatorEndpoint()): Promise<void> {
  if (process.env[OWNED_ENV] !== "1") {
    throw new Error(`refusing to reset ${endpoint}: it was not started by the test harness (AWS_ENDPOINT_URL was given)`);
  }
  const response = await fetch(new URL("/_ministack/reset", endpoint), { method: "POST" });
  if (!response.ok) throw new Error(`POST ${endpoint}/_ministack/reset -> HTTP ${response.status}`);
}

/** Fail with how to get the prerequisite; never skip. */
export class EmulatorSetupError extends Error {
  override readonly name = "EmulatorSetupError";
}

const HOW_TO_FIX = [
  "The contract and integration tests need an AWS emulator. Either:",
  `  - install Python >= 3.10 with venv and pip (Debian/Ubuntu: apt-get install python3 python3-venv python3-pip) and re-run;`,
  `    the harness then creates ${VENV_DIR} with ministack==${MINISTACK_VERSION} from PyPI itself, or create it by hand:`,
  `      python3 -m venv .venv-ministack && .venv-ministack/bin/python -m pip install ministack==${MINISTACK_VERSION}`,
  "  - or point AWS_ENDPOINT_URL at a running LocalStack/MiniStack-compatible endpoint (e.g. http://127.0.0.1:4566).",
].join("\n");

async function installedVersion(): Promise<string | undefined> {
  if (!existsSync(VENV_PYTHON)) return undefined;
  try {
    const { stdout } = await run(VENV_PYTHON, ["-c", "import importlib.metadata as m; print(m.version('ministack'))"]);
    return stdout.trim();
  } catch {
    return undefined;
  }
}

async function venvHasPip(): Promise<boolean> {
  if (!existsSync(VENV_PYTHON)) return false;
  try {
    await run(VENV_PYTHON, ["-m", "pip", "--version"]);
    return true;
  } catch {
    return false;
  }
}

async function findPython(): Promise<string> {
  for (const candidate of [process.env.PYTHON, "python3", "python"]) {
    if (!candidate) continue;
    try {
      const { stdout } = await run(candidate, ["-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"]);
      const [major = 0, minor = 0] = stdout.trim().split(".").map(Number);
      if (major > 3 || (major === 3 && minor >= 10)) return candidate;
    } catch {
      // not there, or no venv module: try the next one
    }
  }
  throw new EmulatorSetupError(`no Python >= 3.10 with the venv module found on PATH.\n${HOW_TO_FIX}`);
}

/**
 * Make sure `.venv-ministack` holds exactly the pinned MiniStack, creating the
 * venv and installing from PyPI when needed (works on a fresh machine).
 */
export async function ensureMiniStack(log: (line: string) => void = console.log): Promise<string> {
  const version = await installedVersion();
  if (version === MINISTACK_VERSION) return VENV_PYTHON;
  try {
    if (!(await venvHasPip())) {
      if (existsSync(VENV_DIR) && readdirSync(VENV_DIR).length > 0 && !existsSync(join(VENV_DIR, "pyvenv.cfg"))) {
        throw new EmulatorSetupError(`${VENV_DIR} exists but is not a Python venv; move it away or set MINISTACK_VENV.`);
      }
      const python = await findPython();
      // --clear: a venv left half-made (e.g. python3-venv was missing) or whose interpreter is gone is rebuilt.
      log(`[emulator] creating ${VENV_DIR} with ${python}`);
      await run(python, ["-m", "venv", "--clear", VENV_DIR], { timeout: 120_000 });
    }
    log(`[emulator] installing ministack==${MINISTACK_VERSION} into ${VENV_DIR} (found ${version ?? "none"})`);
    await run(
      VENV_PYTHON,
      ["-m", "pip", "install", "--disable-pip-version-check", "--quiet", `ministack==${MINISTACK_VERSION}`],
      { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    if (error instanceof EmulatorSetupError) throw error;
    const detail = error as { stderr?: string; message: string };
    throw new EmulatorSetupError(
      `could not provision ministack==${MINISTACK_VERSION}: ${detail.message}\n${detail.stderr ?? ""}\n${HOW_TO_FIX}`,
    );
  }
  const installed = await installedVersion();
  if (installed !== MINISTACK_VERSION) {
    throw new EmulatorSetupError(`after pip install, ${VENV_DIR} reports ministack ${installed ?? "missing"}.\n${HOW_TO_FIX}`);
  }
  return VENV_PYTHON;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once("error", () => resolvePort(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => server.close(() => resolvePort(true)));
  });
}

function anyFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** {@link PREFERRED_PORT} when it is free, else a free port picked by the OS. */
export async function choosePort(): Promise<number> {
  return (await portIsFree(PREFERRED_PORT)) ? PREFERRED_PORT : anyFreePort();
}

export interface RunningEmulator {
  readonly endpoint: string;
  readonly pid: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** Start the pinned MiniStack on 127.0.0.1, wait until it is healthy and return how to reach and stop it. */
export async function startMiniStack(log: (line: string) => void = console.log): Promise<RunningEmulator> {
  const python = await ensureMiniStack(log);
  let port = await choosePort();
  for (let attempt = 1; ; attempt++) {
    try {
      const emulator = await startOnce(python, port);
      log(`[emulator] MiniStack ${MINISTACK_VERSION} pid ${emulator.pid} on ${emulator.endpoint}, log ${emulator.logFile}`);
      return emulator;
    } catch (error) {
      // Another process took the port between our check and MiniStack's bind: pick another.
      if (!(error instanceof PortTakenError) || attempt >= 3) throw error;
      port = await anyFreePort();
    }
  }
}

class PortTakenError extends EmulatorSetupError {}

async function startOnce(python: string, port: number): Promise<RunningEmulator> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const logFile = join(CACHE_DIR, `ministack-${port}.log`);
  // MiniStack unpacks every Lambda into TMPDIR and never cleans up (~130 MB per deploy run):
  // give it a directory of its own and remove it when it stops. Outside the repo, where
  // our package.json ("type": "module") would turn its CommonJS Lambda worker into ESM.
  const tmpDir = join(tmpdir(), `jupid-ministack-${port}`);
  rmSync(tmpDir, { recursive: true, force: true });
  mkdirSync(tmpDir, { recursive: true });
  const fd = openSync(logFile, "w");
  let child: ChildProcess;
  try {
    child = spawn(python, ["-m", "ministack"], {
      cwd: REPO_ROOT,
      // Own process group, so teardown can stop MiniStack and anything it spawned, by this id only.
      detached: true,
      stdio: ["ignore", fd, fd],
      env: {
        ...process.env,
        GATEWAY_PORT: String(port),
        BIND_HOST: "127.0.0.1",
        TMPDIR: tmpDir,
        LOG_LEVEL: process.env.MINISTACK_LOG_LEVEL ?? "INFO",
        PERSIST_STATE: "0",
        S3_PERSIST: "0",
      },
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new EmulatorSetupError(`could not spawn ${python} -m ministack`);
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolveExit) => {
    child.once("exit", (code, signal) => {
      exited = `exited with ${signal ?? `code ${code}`}`;
      resolveExit();
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (exited) return;
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      return;
    }
    const killed = await Promise.race([exitedPromise.then(() => true), sleep(5_000).then(() => false)]);
    if (!killed) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
      await Promise.race([exitedPromise, sleep(2_000)]);
    }
    rmSync(tmpDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      const output = tail(logFile, 30);
      const message = `MiniStack ${exited} before becoming healthy.\n${output}`;
      throw /already in use/i.test(output) ? new PortTakenError(message) : new EmulatorSetupError(message);
    }
    try {
      const response = await fetch(`${endpoint}/_ministack/health`, { signal: AbortSignal.timeout(2_000) });
      // Healthy, and still ours (not another emulator that grabbed the port while ours failed to bind).
      if (response.ok && !exited) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new EmulatorSetupError(`MiniStack did not become healthy on ${endpoint} within 60 s.\n${tail(logFile, 30)}`);
    }
    await sleep(200);
  }
  const reset = await fetch(`${endpoint}/_ministack/reset`, { method: "POST" });
  if (!reset.ok) {
    await stop();
    throw new EmulatorSetupError(`POST ${endpoint}/_ministack/reset -> HTTP ${reset.status}`);
  }
  return { endpoint, pid, logFile, stop };
}

/** Check that a given endpoint answers HTTP at all (any status), so a typo fails fast and clearly. */
export async function checkReachable(endpoint: string): Promise<void> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(5_000) });
  } catch (error) {
    throw new EmulatorSetupError(
      `AWS_ENDPOINT_URL=${endpoint} is not reachable (${(error as Error).message}). Start the emulator or unset AWS_ENDPOINT_URL to let the harness start MiniStack.`,
    );
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return `(no log at ${file})`;
  }
}

const sleep = (ms: number) => new Promise<void>((resolveSleep) => setTimeout(resolveSleep, ms));
