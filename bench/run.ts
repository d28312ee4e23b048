/**
 * `npm run bench`: every measurement of issue 6, one table, one JSON file.
 *
 *   npm run bench                      build, then all measurements (~2–3 min on 2 cores)
 *   npx tsx bench/run.ts --only=token,sessions
 *   npx tsx bench/run.ts --profile     also CPU-profile the gateway under load and print where time goes
 *   npx tsx bench/run.ts --quick       fewer iterations (a smoke run; numbers are noisier)
 *
 * Measurements: token, sessions, dynamodb, lambda, sdk, browser. Goals are
 * reported PASS/MISS; a missed goal does not fail the run (timings never
 * fail anything), a measurement that crashes does (exit code 1).
 * Results go to bench/results.json (machine, timestamp, every number), and
 * the rows are compared with the previous results.json when there is one.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { measureBrowserHandshake } from "./browser-handshake.ts";
import { measureLambdaBundles, REPO_ROOT } from "./lambda-bundles.ts";
import { type Measurement, renderTable, type Row } from "./report.ts";
import { measureSdkSize } from "./sdk-size.ts";
import type { LoadResult } from "./session-load.ts";
import { measureSessionsDynamo, measureSessionsMemory } from "./sessions.ts";
import { measureTokenVerify } from "./token-verify.ts";

export const RESULTS_FILE = join(REPO_ROOT, "bench", "results.json");
const ALL = ["token", "sessions", "dynamodb", "lambda", "sdk", "browser"] as const;
type Name = (typeof ALL)[number];

interface ResultsFile {
  readonly timestamp: string;
  readonly rows: readonly Row[];
}

function parseArgs(argv: readonly string[]) {
  const only = argv.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
  for (const name of only ?? []) if (!(ALL as readonly string[]).includes(name)) throw new Error(`--only: unknown measurement "${name}" (${ALL.join(", ")})`);
  return {
    selected: (only ?? ALL) as readonly Name[],
    quick: argv.includes("--quick"),
    profile: argv.includes("--profile"),
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
  const { selected, quick, profile } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const info = machine();
  const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  say(`${info.cpuModel}, ${info.cores} cores, Node ${info.node}, load average ${info.loadAverageAtStart.join(" ")}`);
  if ((info.loadAverageAtStart[0] ?? 0) > info.cores) say(`warning: load average above ${info.cores}: something else is busy, timings will be noisy`);

  const measurements: Partial<Record<Name, Measurement>> = {};
  let failed = false;
  let memoryLoad: LoadResult | undefined;
  const steps: Record<Name, () => Promise<Measurement>> = {
    token: () => measureTokenVerify(quick ? { batches: 10 } : {}),
    sessions: async () => {
      const { measurement, result } = await measureSessionsMemory({ ...(quick ? { duration: 3, warmup: 1 } : {}), profile });
      memoryLoad = result;
      return measurement;
    },
    lambda: () => measureLambdaBundles(quick ? { runs: 5 } : {}),
    sdk: () => measureSdkSize(),
    browser: () => measureBrowserHandshake(quick ? { runs: 5 } : {}),
    dynamodb: () => measureSessionsDynamo(memoryLoad, { ...(quick ? { duration: 3, warmup: 1 } : {}), profile }),
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
    `${rows.filter((r) => r.pass === true).length} goals met, ${rows.filter((r) => r.pass === false).length} missed; ${totalS.toFixed(0)} s; written to bench/results.json`,
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
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
