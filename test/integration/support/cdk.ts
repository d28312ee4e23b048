/**
 * Runs the pinned CDK CLI (node_modules/.bin/cdk, aws-cdk 2.1148.x) against
 * whatever AWS endpoint the environment names: the emulator of the global
 * setup (AWS_ENDPOINT_URL), or a real account when it is unset. Telemetry and
 * notices are off, so the CLI makes no request other than to that endpoint.
 *
 * Every command writes its output to a log file under .cache/integration/;
 * a failing command throws {@link CdkCommandError} carrying the tail of it.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../support/ministack.ts";

/** The stack under test: `JupidEmbed-<env>` of bin/app.ts, built from config/partners.integration.json. */
export const ENVIRONMENT = "integration";
export const STACK_NAME = "JupidEmbed-integration";

export const WORK_DIR = join(REPO_ROOT, ".cache", "integration");
/** The cloud assembly of the last synth; its own directory, so a developer's cdk.out is never touched. */
export const ASSEMBLY_DIR = join(WORK_DIR, "cdk.out");
const CDK_BIN = join(REPO_ROOT, "node_modules", ".bin", "cdk");

export class CdkCommandError extends Error {
  override readonly name = "CdkCommandError";
  constructor(
    message: string,
    readonly logFile: string,
    readonly logTail: string,
  ) {
    super(`${message}\n--- last lines of ${logFile} ---\n${logTail}`);
  }
}

export interface DeployOptions {
  /** A partner file to deploy instead of config/partners.integration.json (`-c partnersFile=`). */
  readonly partnersFile?: string;
  /** Names the log files of this deploy. */
  readonly label: string;
}

export interface StepTiming {
  readonly step: string;
  readonly seconds: number;
}

/**
 * Synthesize the integration stack (esbuild bundles every handler), bootstrap
 * the target environment when asked, and deploy. `-c emulator=true` is the
 * stack's documented switch (lib/stacks/embed-stack.ts) that leaves out only
 * the SDK upload to S3; it is passed for every target so that the suite runs
 * the same template everywhere.
 */
export async function deployStack(options: DeployOptions & { bootstrap?: boolean }): Promise<StepTiming[]> {
  const timings: StepTiming[] = [];
  const context = ["-c", `env=${ENVIRONMENT}`, "-c", "emulator=true"];
  if (options.partnersFile) context.push("-c", `partnersFile=${options.partnersFile}`);
  timings.push(await cdk(`${options.label}-synth`, ["synth", STACK_NAME, ...context, "--output", ASSEMBLY_DIR, "--quiet"]));
  if (options.bootstrap) {
    // The environment (account/region) comes from the synthesized stack, i.e. from the endpoint's STS.
    timings.push(await cdk(`${options.label}-bootstrap`, ["bootstrap", "--app", ASSEMBLY_DIR]));
  }
  timings.push(
    await cdk(`${options.label}-deploy`, [
      "deploy",
      STACK_NAME,
      "--app",
      ASSEMBLY_DIR,
      "--require-approval",
      "never",
      "--progress",
      "events",
    ]),
  );
  return timings;
}

const COMMAND_TIMEOUT_MS = 8 * 60_000;

async function cdk(step: string, args: readonly string[]): Promise<StepTiming> {
  mkdirSync(WORK_DIR, { recursive: true });
  const logFile = join(WORK_DIR, `${step}.log`);
  const fd = openSync(logFile, "w");
  const started = performance.now();
  const fullArgs = [...args, "--no-notices"];
  let outcome: { code: number | null; signal: NodeJS.Signals | null; timedOut: boolean };
  try {
    outcome = await new Promise((resolveRun, reject) => {
      const child = spawn(CDK_BIN, fullArgs, {
        cwd: REPO_ROOT,
        // Own process group: a hung deploy is stopped with everything it started (npx, tsx, esbuild).
        detached: true,
        stdio: ["ignore", fd, fd],
        env: {
          ...process.env,
          // Node >= 22 for the app (tsx) and esbuild, whatever node started vitest.
          PATH: `${join(REPO_ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
          CDK_DISABLE_CLI_TELEMETRY: "true",
        },
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }, COMMAND_TIMEOUT_MS);
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        resolveRun({ code, signal, timedOut });
      });
    });
  } finally {
    closeSync(fd);
  }
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  if (outcome.code !== 0) {
    const why = outcome.timedOut ? `timed out after ${COMMAND_TIMEOUT_MS / 1000} s` : `exited with ${outcome.signal ?? `code ${outcome.code}`}`;
    throw new CdkCommandError(`cdk ${fullArgs.join(" ")} ${why} after ${seconds} s`, logFile, tail(logFile, 60));
  }
  return { step, seconds };
}

function tail(file: string, lines: number): string {
  try {
    const text = readFileSync(file, "utf8").trimEnd().split("\n");
    // Progress lines of resources still in progress add nothing to a failure report.
    return text
      .filter((line) => !/\|\s+\S*_IN_PROGRESS\s+\|/.test(line))
      .slice(-lines)
      .join("\n");
  } catch {
    return `(no log at ${file})`;
  }
}
