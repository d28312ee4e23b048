/**
 * What the package tests share: the packed tarball and one fresh partner
 * project per run (installed once by setup.ts), commands run the way a
 * partner runs them, and a local gateway that allows the test origins.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { inject } from "vitest";
import { parseEnvironmentConfig } from "../../config/schema.ts";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";

export const ROOT = resolve(import.meta.dirname, "..", "..");
/** Node >= 22 (the `node` devDependency); npm and the partner's tools run on it. */
export const NODE_BIN_DIR = join(ROOT, "node_modules", ".bin");
export const PARTNER_ID = "pkg-acme";

/** The versions a partner project installs from the npm registry (exact, so a run is repeatable). */
export const PARTNER_PROJECT_DEPENDENCIES = {
  react: "19.3.1",
  "react-dom": "19.3.1",
  vite: "8.3.8",
  next: "16.4.6",
  // Next.js type-checks the app (and the example route handler against the package's .d.ts).
  typescript: "5.9.3",
  "@types/react": "19.3.3",
  "@types/react-dom": "19.3.0",
  "@types/node": "22.20.5",
} as const;

declare module "vitest" {
  export interface ProvidedContext {
    /** Absolute path of the `npm pack` tarball of sdk/. */
    packageTarball: string;
    /** The fresh partner project with the tarball and PARTNER_PROJECT_DEPENDENCIES installed. */
    partnerProject: string;
    /** A fresh project with nothing but the tarball installed. */
    bareProject: string;
  }
}

export const packageTarball = () => inject("packageTarball");
export const partnerProject = () => inject("partnerProject");
export const bareProject = () => inject("bareProject");

/** The environment partner tools run in: Node 22 first on PATH, no telemetry, no update checks. */
export function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${NODE_BIN_DIR}:${process.env.PATH ?? ""}`,
    NEXT_TELEMETRY_DISABLED: "1",
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    ...extra,
  };
}

const execFileAsync = promisify(execFile);

/** Run a command to completion; on failure the error carries its output. */
export async function run(command: string, args: readonly string[], cwd: string, env = toolEnv(), timeout = 240_000) {
  try {
    return await execFileAsync(command, args, { cwd, env, timeout, maxBuffer: 32 * 1024 * 1024 });
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

/** Start a long-running command; resolves once `ready` matches its output. */
export async function startProcess(command: string, args: readonly string[], cwd: string, ready: RegExp, env = toolEnv()) {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(" ")} did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (ready.test(output)) {
        clearTimeout(timer);
        resolvePromise();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}:\n${output}`)); // no-op once it was ready
    });
  });
  return {
    output: () => output,
    /** Stop its own process group (detached): the command and whatever it spawned, nothing else. */
    async stop() {
      if (!child.pid || child.exitCode !== null) return;
      const exited = new Promise((done) => child.once("exit", done));
      process.kill(-child.pid, "SIGTERM");
      const timer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
    },
  };
}

/** A free loopback port (the browser harness's helper). */
export { freePort } from "../browser/engines/engine.ts";

/** The local gateway with one partner ({@link PARTNER_ID}) that allows exactly `origins`. */
export async function startPartnerGateway(origins: readonly string[]): Promise<{ gateway: RunningGateway; secret: string }> {
  const secret = randomBytes(32).toString("base64url");
  const config = parseEnvironmentConfig(
    {
      environment: "local",
      appUrl: "http://127.0.0.1:4000",
      workspaceBasePath: "/app",
      partners: [
        {
          id: PARTNER_ID,
          displayName: "Package Acme",
          allowedOrigins: origins,
          branding: { displayName: "Package Acme × Jupid", primaryColor: "#0f766e" },
          shell: { mode: "embedded", chat: true },
          freeLimit: { metric: "transactions", threshold: 100 },
        },
      ],
    },
    "package test partners",
  );
  setLogSink(() => {});
  const gateway = await startGateway({ config, secrets: { [PARTNER_ID]: secret }, host: "127.0.0.1", port: 0 });
  return { gateway, secret };
}

/** A static file server on localhost for built apps, plus the partner's token endpoint. */
export async function startSiteServer(
  port: number,
  roots: Readonly<Record<string, string>>,
  mintToken: () => Promise<string>,
): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer: createHttpServer } = await import("node:http");
  const { readFile } = await import("node:fs/promises");
  const types: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css" };
  const server = createHttpServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://site.invalid").pathname;
    if (path === "/api/jupid/embed-token") {
      void mintToken().then((token) => {
        res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
        res.end(JSON.stringify({ token }));
      });
      return;
    }
    const prefix = Object.keys(roots).find((p) => path.startsWith(`/${p}/`));
    const rel = prefix ? path.slice(prefix.length + 2) || "index.html" : "";
    if (!prefix || rel.includes("..")) return void res.writeHead(404).end();
    readFile(join(roots[prefix] as string, rel)).then(
      (data) => {
        res.writeHead(200, { "Content-Type": types[rel.slice(rel.lastIndexOf("."))] ?? "application/octet-stream" });
        res.end(data);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(port, "localhost", () => resolvePromise());
  });
  return {
    url: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.closeAllConnections();
        server.close(() => resolvePromise());
      }),
  };
}
