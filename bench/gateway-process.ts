/**
 * Start the local gateway in a child Node process (bench/gateway-server.ts)
 * and talk to it over IPC. The child is the same Node binary as the bench
 * (Node 22 from node_modules/.bin under `npm run bench`), with tsx as an
 * import hook.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { GatewayMessage, GatewaySpec } from "./gateway-server.ts";

export const REPO_ROOT = resolve(import.meta.dirname, "..");
export const PROFILE_DIR = join(REPO_ROOT, ".cache", "bench-profiles");

export interface ChildGateway {
  readonly url: string;
  readonly pid: number;
  /** CPU time (user + system, ms), RSS and heap of the child right now. */
  usage(): Promise<{ cpuMs: number; rss: number; heapUsed: number }>;
  /** Disconnect and wait for exit (at most 10 s, then SIGKILL by pid). Returns the CPU profile file when one was asked for. */
  stop(): Promise<string | undefined>;
}

export interface ChildGatewayOptions {
  readonly spec: GatewaySpec;
  /** Extra environment for the child (AWS endpoint, table names). */
  readonly env?: Readonly<Record<string, string>>;
  /** Write a V8 CPU profile of the child to .cache/bench-profiles/<label>-*.cpuprofile. */
  readonly cpuProfile?: string;
}

export async function startChildGateway(options: ChildGatewayOptions): Promise<ChildGateway> {
  const args = ["--import", "tsx"];
  if (options.cpuProfile) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    args.push("--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${options.cpuProfile}-${Date.now()}.cpuprofile`);
  }
  args.push(join(REPO_ROOT, "bench", "gateway-server.ts"));
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A profile or per-service endpoint from the developer's shell must not send the AWS adapters anywhere but the emulator.
  for (const name of Object.keys(env)) if (name.startsWith("AWS_ENDPOINT_URL_") || name === "AWS_PROFILE") delete env[name];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    env: { ...env, ...options.env, BENCH_GATEWAY_SPEC: JSON.stringify(options.spec), NODE_ENV: "production" },
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));

  const listening = await new Promise<Extract<GatewayMessage, { type: "listening" }>>((resolveListening, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench gateway did not start within 30 s\n${stderr}`)), 30_000);
    child.on("message", (message: GatewayMessage) => {
      if (message.type === "listening") {
        clearTimeout(timer);
        resolveListening(message);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`bench gateway exited with ${code} before listening\n${stderr}`));
    });
  });

  return {
    url: listening.url,
    pid: listening.pid,
    usage: () =>
      new Promise((resolveUsage, reject) => {
        const timer = setTimeout(() => reject(new Error("bench gateway did not report its usage")), 10_000);
        const onMessage = (message: GatewayMessage) => {
          if (message.type !== "usage") return;
          clearTimeout(timer);
          child.off("message", onMessage);
          resolveUsage({ cpuMs: (message.cpu.user + message.cpu.system) / 1000, rss: message.rss, heapUsed: message.heapUsed });
        };
        child.on("message", onMessage);
        child.send({ type: "usage" });
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.disconnect();
        const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
        if (!done) {
          child.kill("SIGKILL");
          await exited;
        }
      }
      if (!options.cpuProfile) return undefined;
      const file = readdirSync(PROFILE_DIR)
        .filter((name) => name.startsWith(`${options.cpuProfile}-`))
        .sort()
        .at(-1);
      return file ? join(PROFILE_DIR, file) : undefined;
    },
  };
}
