/**
 * Vitest global setup for the "contract" and "integration" projects: makes an
 * AWS emulator available and points every AWS SDK client of the test workers
 * at it through the environment (AWS_ENDPOINT_URL + dummy credentials +
 * AWS_REGION). Workers inherit these because they start after global setup;
 * the endpoint is also `provide`d as "awsEndpoint" for `inject()`.
 *
 * Both projects list this file; in one `vitest run` they share one emulator
 * (reference-counted on globalThis), and the last teardown stops it.
 */
import type { TestProject } from "vitest/node";
import { checkReachable, LOG_FILE_ENV, OWNED_ENV, startMiniStack } from "./ministack.ts";

declare module "vitest" {
  interface ProvidedContext {
    /** The emulator endpoint (same value as AWS_ENDPOINT_URL in the workers). */
    awsEndpoint: string;
  }
}

interface Acquired {
  readonly endpoint: string;
  /** Stops the emulator when the harness started it; a no-op for a given AWS_ENDPOINT_URL. */
  readonly release: () => Promise<void>;
}

interface SharedState {
  refs: number;
  acquiring?: Promise<Acquired>;
}

const STATE_KEY = Symbol.for("jupid.emulator-setup");
const globalState = globalThis as { [STATE_KEY]?: SharedState };
globalState[STATE_KEY] ??= { refs: 0 };
const shared: SharedState = globalState[STATE_KEY];

const DUMMY_CREDENTIALS = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" };

async function acquire(): Promise<Acquired> {
  const given = process.env.AWS_ENDPOINT_URL;
  if (given) {
    // Someone else runs the emulator: use it as it is, never reset or stop it.
    await checkReachable(given);
    for (const [name, value] of Object.entries(DUMMY_CREDENTIALS)) process.env[name] ??= value;
    console.log(`[emulator] using AWS_ENDPOINT_URL=${given}`);
    return { endpoint: given, release: async () => {} };
  }

  const emulator = await startMiniStack();
  // Never leave a MiniStack behind, even when vitest exits without running teardown.
  const killOnExit = () => {
    try {
      process.kill(-emulator.pid, "SIGKILL");
    } catch {
      // already stopped
    }
  };
  process.once("exit", killOnExit);

  // A profile or service-specific endpoint from the developer's shell must not send tests elsewhere.
  for (const name of Object.keys(process.env)) {
    if (name.startsWith("AWS_ENDPOINT_URL_") || name === "AWS_PROFILE") delete process.env[name];
  }
  Object.assign(process.env, DUMMY_CREDENTIALS, {
    AWS_ENDPOINT_URL: emulator.endpoint,
    [LOG_FILE_ENV]: emulator.logFile,
    [OWNED_ENV]: "1",
  });

  return {
    endpoint: emulator.endpoint,
    release: async () => {
      process.off("exit", killOnExit);
      await emulator.stop();
      for (const name of ["AWS_ENDPOINT_URL", LOG_FILE_ENV, OWNED_ENV]) delete process.env[name];
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  shared.refs += 1;
  shared.acquiring ??= acquire();
  let acquired: Acquired;
  try {
    acquired = await shared.acquiring;
  } catch (error) {
    shared.refs -= 1;
    shared.acquiring = undefined;
    throw error;
  }
  project.provide("awsEndpoint", acquired.endpoint);
  return async () => {
    shared.refs -= 1;
    if (shared.refs > 0) return;
    shared.acquiring = undefined;
    await acquired.release();
  };
}
