/**
 * `npm run bench`: every measurement, one table, one JSON file. `--help`
 * prints the options ({@link USAGE}); bench/README.md explains each row.
 *
 * Goals are reported PASS/FAIL; a failed goal does not fail the run (timings
 * never fail anything), a measurement that crashes does (exit code 1).
 * Results go to bench/results.json (machine, timestamp, every number), and
 * the rows are compared with the previous results.json when there is one.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { resolve } from "node:path";
import { type Measurement, renderTable, type Row } from "./report.ts";
import type { LoadResult } from "./session-load.ts";

// Each measurement's module is imported when it runs, so that --help (and --only) load nothing else.
const REPO_ROOT = resolve(import.meta.dirname, "..");

export const RESULTS_FILE = join(REPO_ROOT, "bench", "results.json");
const ALL = ["token", "sessions", "dynamodb", "lambda", "sdk", "browser"] as const;
type Name = (typeof ALL)[number];

interface ResultsFile {
  readonly timestamp: string;
  readonly rows: readonly Row[];
}

export const USAGE = `Usage: npm run bench [-- options]     (or: npx tsx bench/run.ts [options])

Builds, then runs every measurement and prints one table (each row with its goal and PASS/FAIL);
writes bench/results.json. Rows are explained in bench/README.md.

Options:
  --only=<names>   run only these measurements, comma-separated: ${ALL.join(", ")}
  --quick          fewer iterations and shorter loads (a smoke run; numbers are noisier)
  --profile        also CPU-profile the gateway under load and print where its time goes
  --help, -h       print this and exit

Measurements:
  token     token verification in-process: the Jupid policy vs the bare HMAC floor, jose, jsonwebtoken
  sessions  HTTP sign-ins against the local gateway and the in-memory floor server, same load, same run
  lambda    each Lambda bundle: size, module init, the first AWS call (made during init), the first request
  sdk       embed.js size
  browser   mount() -> authenticated in Chromium
  dynamodb  HTTP sign-ins against the AWS adapters on MiniStack (relative figures; starts MiniStack)
`;

const KNOWN_FLAGS = new Set(["--quick", "--profile", "--help", "-h"]);

function parseArgs(argv: readonly string[]) {
  for (const arg of argv) {
    if (!arg.startsWith("--only=") && !KNOWN_FLAGS.has(arg)) throw new Error(`unknown option "${arg}"\n\n${USAGE}`);
  }
  const only = argv.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
  for (const name of only ?? []) if (!(ALL as readonly string[]).includes(name)) throw new Error(`--only: unknown measurement "${name}" (${ALL.join(", ")})`);
  return {
    selected: (only ?? ALL) as readonly Name[],
    quick: argv.includes("--quick"),
    profile: argv.includes("--profile"),
    help: argv.includes("--help") || argv.includes("-h"),
  };
}

function machine() {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${release()}`,
    loadAverageAtStart: loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

async function main(): Promise<void> {
  const { selected, quick, profile, help } = parseArgs(process.argv.slice(2));
  if (help) {
    process.stdout.write(USAGE);
    return;
  }
  // The build (sdk/dist, the generated page scripts) comes first, as `npm run build` does it; not for --help.
  const built = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "scripts", "build.ts")], { cwd: REPO_ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (built.status !== 0) throw new Error(`the build failed (exit ${built.status})`);
  const started = performance.now();
  const info = machine();
  const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  say(`${info.cpuModel}, ${info.cores} cores, Node ${info.node}, load average ${info.loadAverageAtStart.join(" ")}`);
  if ((info.loadAverageAtStart[0] ?? 0) > info.cores) say(`warning: load average above ${info.cores}: something else is busy, timings will be noisy`);

  const measurements: Partial<Record<Name, Measurement>> = {};
  let failed = false;
  let memoryLoad: LoadResult | undefined;
  const steps: Record<Name, () => Promise<Measurement>> = {
    token: async () => (await import("./token-verify.ts")).measureTokenVerify(quick ? { batches: 10 } : {}),
    sessions: async () => {
      const { measureSessionsMemory } = await import("./sessions.ts");
      const { measurement, result } = await measureSessionsMemory({ ...(quick ? { duration: 3, warmup: 1 } : {}), profile });
      memoryLoad = result;
      return measurement;
    },
    lambda: async () => (await import("./lambda-bundles.ts")).measureLambdaBundles(quick ? { runs: 5 } : {}),
    sdk: async () => (await import("./sdk-size.ts")).measureSdkSize(),
    browser: async () => (await import("./browser-handshake.ts")).measureBrowserHandshake(quick ? { runs: 5 } : {}),
    dynamodb: async () =>
      (await import("./sessions.ts")).measureSessionsDynamo(memoryLoad, { ...(quick ? { duration: 3, warmup: 1 } : {}), profile }),
  };
  // CPU-bound in-process timings first, the emulator (heaviest neighbour) last.
  const order: Name[] = ["token", "sessions", "lambda", "sdk", "browser", "dynamodb"];
  for (const name of order.filter((n) => selected.includes(n))) {
    const stepStarted = performance.now();
    say(`${name}…`);
    try {
      measurements[name] = await steps[name]();
    } catch (error) {
      failed = true;
      const message = error instanceof Error ? error.message : String(error);
      say(`${name} failed: ${message}`);
      measurements[name] = {
        rows: [{ name: `${name}: FAILED`, median: "—", p99: "—", ratio: "—", goal: message.split("\n")[0]?.slice(0, 80) ?? "", pass: false }],
        data: { error: message },
        notes: [],
      };
    }
    say(`${name} done in ${((performance.now() - stepStarted) / 1000).toFixed(1)} s`);
  }

  const rows = order.flatMap((name) => measurements[name]?.rows ?? []);
  const notes = order.flatMap((name) => measurements[name]?.notes ?? []);
  const previous = readPrevious();
  const totalS = (performance.now() - started) / 1000;
  const output = [
    "",
    `Jupid Embed benchmarks — ${new Date().toISOString()} — ${info.cpuModel}, ${info.cores} cores, Node ${info.node}`,
    "",
    renderTable(rows),
    "",
    ...notes.map((n) => `- ${n}`),
    ...(previous ? ["", ...compare(previous, rows)] : []),
    "",
    `${rows.filter((r) => r.pass === true).length} goals met, ${rows.filter((r) => r.pass === false).length} failed; ${totalS.toFixed(0)} s; written to bench/results.json`,
    "",
  ];
  process.stdout.write(output.join("\n"));

  const results = {
    timestamp: new Date().toISOString(),
    machine: { ...info, loadAverageAtEnd: loadavg().map((n) => Math.round(n * 100) / 100) },
    options: { selected, quick, profile },
    durationS: Math.round(totalS),
    rows,
    notes,
    measurements: Object.fromEntries(order.filter((n) => measurements[n]).map((n) => [n, measurements[n]?.data])),
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  if (failed) process.exitCode = 1;
}

function readPrevious(): ResultsFile | undefined {
  if (!existsSync(RESULTS_FILE)) return undefined;
  try {
    return JSON.parse(readFileSync(RESULTS_FILE, "utf8")) as ResultsFile;
  } catch {
    return undefined;
  }
}

/** Rows whose median moved by more than 10% since the previous results.json. */
function compare(previous: ResultsFile, rows: readonly Row[]): string[] {
  const before = new Map(previous.rows.map((r) => [r.name, r]));
  const lines: string[] = [];
  for (const row of rows) {
    const old = before.get(row.name);
    if (row.value === undefined || old?.value === undefined || old.unit !== row.unit || old.value === 0) continue;
    const change = (row.value - old.value) / old.value;
    if (Math.abs(change) >= 0.1) lines.push(`  ${row.name}: ${old.median} → ${row.median} (${change > 0 ? "+" : ""}${(change * 100).toFixed(0)}%)`);
  }
  return [`vs previous bench/results.json (${previous.timestamp}): ${lines.length ? "" : "no median moved by 10% or more"}`, ...lines];
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
