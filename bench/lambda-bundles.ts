/**
 * Measurement 4: the Lambda handler bundles. Each entry of
 * lambdas/handlers/ is bundled with esbuild as the CDK's NodejsFunction
 * does it (see {@link LAMBDA_BUNDLE_OPTIONS}), then imported by a fresh
 * `node` process to time its cold module init.
 *
 * `bundleHandlers` is also what test/unit/budgets.test.ts checks against
 * the 300 KB budget, so the test and the bench measure the same bytes.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type BuildOptions, build } from "esbuild";
import { LAMBDA_MODULE_ALIASES } from "../lambdas/bundling.ts";
import { type HandlerName, HANDLER_NAMES as ROUTE_HANDLER_NAMES } from "../lambdas/handlers/routes.ts";
import { ESM_REQUIRE_BANNER, LAMBDA_RUNTIME } from "../lib/constructs/embed-function.ts";
import type { Measurement, Row } from "./report.ts";
import { kb, ms, ratio, summarize } from "./stats.ts";

export const REPO_ROOT = resolve(import.meta.dirname, "..");
// Every handler of the route table (lambdas/handlers/routes.ts), so a new route group is measured and budgeted.
export const HANDLER_NAMES: readonly HandlerName[] = ROUTE_HANDLER_NAMES;
export type HandlerEntry = HandlerName;

/** Each handler bundle's minified size must stay within this (test/unit/budgets.test.ts). */
export const LAMBDA_BUNDLE_BUDGET_BYTES = 300 * 1024;
/**
 * Handlers allowed more, each with its reason. `oidc`: a certified relying
 * party library (oauth4webapi, ~20 KB) plus jose's JWKS verification on top of
 * what every handler carries (docs/adr/0010-oidc-entrypoint.md).
 */
export const LAMBDA_BUNDLE_BUDGET_OVERRIDES: Partial<Record<HandlerName, number>> = { oidc: 320 * 1024 };

/** The budget of one handler's bundle. */
export function bundleBudget(name: HandlerName): number {
  return LAMBDA_BUNDLE_BUDGET_OVERRIDES[name] ?? LAMBDA_BUNDLE_BUDGET_BYTES;
}
/** Goal for cold module init (not a test: timings never fail tests). */
export const LAMBDA_INIT_GOAL_MS = 80;

/** esbuild's target for the Lambda runtime the CDK deploys (`nodejs24.x` -> `node24`). */
export const LAMBDA_TARGET = `node${LAMBDA_RUNTIME.name.match(/nodejs(\d+)/)?.[1] ?? "22"}`;

/**
 * The esbuild options the CDK's NodejsFunction passes for our functions
 * (lib/constructs/embed-function.ts: format ESM, the same banner, mainFields
 * module/main, minify, sourceMap without sourcesContent, externalModules []
 * so the AWS SDK v3 is bundled, and the module aliases of lambdas/bundling.ts),
 * i.e. its command line `--bundle --target=<runtime> --platform=node
 * --format=esm --minify --sourcemap --sources-content=false --banner:js=…
 * --main-fields=module,main --alias:…`. The banner, the runtime and the
 * aliases are imported from where the construct takes them, so they cannot
 * drift; the flags are mirrored from its `bundling` block.
 */
export const LAMBDA_BUNDLE_OPTIONS: BuildOptions = {
  bundle: true,
  platform: "node",
  target: LAMBDA_TARGET,
  format: "esm",
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ["module", "main"],
  external: [],
  banner: { js: ESM_REQUIRE_BANNER },
  alias: { ...LAMBDA_MODULE_ALIASES },
  tsconfig: join(REPO_ROOT, "tsconfig.json"),
  logLevel: "silent",
};

/** The Node options the functions run with (the CDK sets NODE_OPTIONS=--enable-source-maps). */
export const LAMBDA_NODE_OPTIONS = ["--enable-source-maps"];

export interface HandlerBundle {
  readonly name: HandlerEntry;
  readonly file: string;
  /** The minified index.mjs, without its external source map. */
  readonly bytes: number;
  readonly mapBytes: number;
  /** Bytes in the output per npm package (or repo folder), largest first. */
  readonly breakdown: ReadonlyArray<readonly [string, number]>;
}

/** `node_modules/@scope/pkg/...` -> `@scope/pkg`; repo files -> their top folder. */
function packageOf(input: string): string {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  return match?.[1] ?? input.split("/").slice(0, 2).join("/");
}

/** Bundle every handler into `outDir/<name>/index.mjs` (+ .map) and report the sizes. */
export async function bundleHandlers(outDir: string, options: BuildOptions = LAMBDA_BUNDLE_OPTIONS): Promise<HandlerBundle[]> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  return Promise.all(
    HANDLER_NAMES.map(async (name) => {
      const file = join(outDir, name, "index.mjs");
      const result = await build({
        ...options,
        entryPoints: [join(REPO_ROOT, "lambdas", "handlers", `${name}.ts`)],
        outfile: file,
        metafile: true,
      });
      const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
      const byPackage = new Map<string, number>();
      for (const [input, info] of Object.entries(output?.inputs ?? {})) {
        byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + info.bytesInOutput);
      }
      const breakdown = [...byPackage].sort((a, b) => b[1] - a[1]);
      return { name, file, bytes: statSync(file).size, mapBytes: statSync(`${file}.map`).size, breakdown };
    }),
  );
}

/** Wall time of one fresh process, plus the in-process import time it reports (ms). */
function timeProcess(args: readonly string[], env: NodeJS.ProcessEnv): { wallMs: number; importMs: number } {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, encoding: "utf8", timeout: 30_000 });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} failed: ${result.stderr}`);
  return { wallMs, importMs: Number(result.stdout.trim() || "0") };
}

/** Times the import of `import.meta` URL given as argv[1]; prints milliseconds. */
const IMPORT_TIMER = "const s=performance.now();await import(process.argv[1]);process.stdout.write(String(performance.now()-s))";

export interface LambdaOptions {
  readonly runs?: number;
}

export async function measureLambdaBundles(options: LambdaOptions = {}): Promise<Measurement> {
  const runs = options.runs ?? 20;
  const outDir = join(REPO_ROOT, ".cache", "bench-bundles");
  const bundles = await bundleHandlers(outDir);
  // What a Lambda environment looks like at init: region and the table names set; nothing is called at import.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    JUPID_SETTINGS: JSON.stringify({ environment: "staging", appUrl: "https://app.example", workspaceBasePath: "/app", sessionLifetimeSeconds: 3600 }),
  };

  // Baselines in the same run: a bare `node -e 0`, and the same timer importing an empty module.
  const empty = join(outDir, "empty.mjs");
  await build({ ...LAMBDA_BUNDLE_OPTIONS, stdin: { contents: "export {};", loader: "js" }, outfile: empty });
  const bare: number[] = [];
  const emptyImport: number[] = [];
  const perBundle = new Map<HandlerEntry, { wall: number[]; imports: number[] }>(bundles.map((b) => [b.name, { wall: [], imports: [] }]));
  // Rounds interleave the processes, so a noisy second hurts every bundle alike.
  for (let round = 0; round < runs; round++) {
    bare.push(timeProcess([...LAMBDA_NODE_OPTIONS, "-e", "0"], env).wallMs);
    emptyImport.push(timeProcess([...LAMBDA_NODE_OPTIONS, "--input-type=module", "-e", IMPORT_TIMER, pathToFileURL(empty).href], env).importMs);
    for (const bundle of bundles) {
      const t = timeProcess([...LAMBDA_NODE_OPTIONS, "--input-type=module", "-e", IMPORT_TIMER, pathToFileURL(bundle.file).href], env);
      perBundle.get(bundle.name)?.wall.push(t.wallMs);
      perBundle.get(bundle.name)?.imports.push(t.importMs);
    }
  }
  const bareWall = summarize(bare);

  const rows: Row[] = [];
  const data: Record<string, unknown> = {
    runs,
    esbuild: {
      ...LAMBDA_BUNDLE_OPTIONS,
      banner: "ESM_REQUIRE_BANNER of lib/constructs/embed-function.ts",
      alias: Object.keys(LAMBDA_MODULE_ALIASES).map((name) => `${name} (lambdas/bundling.ts)`),
      tsconfig: "tsconfig.json",
    },
    nodeOptions: LAMBDA_NODE_OPTIONS,
    bareNodeWallMs: bareWall,
    emptyModuleImportMs: summarize(emptyImport),
    bundles: {},
  };
  for (const bundle of bundles) {
    const timings = perBundle.get(bundle.name) as { wall: number[]; imports: number[] };
    const imports = summarize(timings.imports);
    const wall = summarize(timings.wall);
    rows.push({
      name: `lambda ${bundle.name}: size (min)`,
      median: kb(bundle.bytes),
      p99: "—",
      ratio: ratio(bundle.bytes, bundleBudget(bundle.name), "budget"),
      goal: `≤ ${bundleBudget(bundle.name) / 1024} KB`,
      pass: bundle.bytes <= bundleBudget(bundle.name),
      value: bundle.bytes,
      unit: "bytes",
    });
    rows.push({
      name: `lambda ${bundle.name}: cold module init`,
      median: ms(imports.median),
      p99: ms(imports.p99),
      ratio: `process ${ms(wall.median)} = ${ratio(wall.median, bareWall.median, "bare node")}`,
      goal: "≤ 80 ms",
      pass: imports.median <= LAMBDA_INIT_GOAL_MS,
      value: imports.median,
      unit: "ms",
    });
    (data.bundles as Record<string, unknown>)[bundle.name] = {
      bytes: bundle.bytes,
      mapBytes: bundle.mapBytes,
      importMs: imports,
      processWallMs: wall,
      largestInputs: Object.fromEntries(bundle.breakdown.slice(0, 12)),
    };
  }
  const largest = bundles.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const top = largest.breakdown
    .slice(0, 6)
    .map(([name, bytes]) => `${name} ${kb(bytes)}`)
    .join(", ");
  return {
    rows,
    data,
    notes: [
      `lambda: largest bundle ${largest.name} (${kb(largest.bytes)}): ${top}.`,
      `lambda: bundled as lib/constructs/embed-function.ts does (esbuild ESM, minify, main fields module/main, external source map without sources, platform node, target ${LAMBDA_TARGET}, AWS SDK bundled, aliases of lambdas/bundling.ts); size is index.mjs without its .map.`,
      `lambda: cold module init = \`await import(bundle)\` timed inside a fresh \`node ${LAMBDA_NODE_OPTIONS.join(" ")}\` (${process.version}; Lambda runs ${LAMBDA_RUNTIME.name} on arm64) process, median of ${runs} (p99 column = slowest of ${runs}); "process" = spawn-to-exit wall time, vs a bare \`node -e 0\` at ${ms(bareWall.median)}; an empty module imports in ${ms(summarize(emptyImport).median)}.`,
    ],
  };
}
