/**
 * Measurement 4: the Lambda handler bundles. Each entry of
 * lambdas/handlers/ is bundled with esbuild as the CDK's NodejsFunction
 * does it (see {@link LAMBDA_BUNDLE_OPTIONS}), then imported by a fresh
 * `node` process to time its cold module init.
 *
 * `bundleHandlers` is also what test/unit/budgets.test.ts checks against
 * the 300 KB budget, so the test and the bench measure the same bytes.
 */
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type BuildOptions, build } from "esbuild";
import { LAMBDA_MODULE_ALIASES } from "../lambdas/bundling.ts";
import { type HandlerName, HANDLER_NAMES as ROUTE_HANDLER_NAMES } from "../lambdas/handlers/routes.ts";
import { WARM_UP_MARKS } from "../lambdas/handlers/runtime.ts";
import { ESM_REQUIRE_BANNER, LAMBDA_RUNTIME } from "../lib/constructs/embed-function.ts";
import type { Measurement, Row } from "./report.ts";
import { kb, ms, ratio, summarize } from "./stats.ts";

export const REPO_ROOT = resolve(import.meta.dirname, "..");
/** Every handler of the route table (lambdas/handlers/routes.ts), so a new route's bundle is measured and budgeted too. */
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
export const LAMBDA_INIT_GOAL_MS = 35;

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

/** The Node options the functions run with: none (lib/constructs/embed-function.ts sets no NODE_OPTIONS; no source maps at run time). */
export const LAMBDA_NODE_OPTIONS: readonly string[] = [];

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

/** One cold start as the child process reports it (ms). */
interface ColdStart {
  readonly wallMs: number;
  /** `await import(bundle)`, warm-up included. */
  readonly importMs: number;
  /** The init warm-up (runtime + first DynamoDB call), between its performance marks; 0 when there was none. */
  readonly warmUpMs: number;
  /** The first and the second invocation of `handler` after init. */
  readonly firstRequestMs: number;
  readonly secondRequestMs: number;
}

/**
 * Runs in the child: import the bundle (timed), read the warm-up marks, then
 * invoke the handler twice with the given event. Prints one `BENCH {...}` line
 * (the handlers' own request logs go to stdout too).
 */
const COLD_START_SCRIPT = `
const started = performance.now();
const mod = await import(process.argv[1]);
const importMs = performance.now() - started;
const [start] = performance.getEntriesByName("${WARM_UP_MARKS.start}");
const [end] = performance.getEntriesByName("${WARM_UP_MARKS.end}");
const event = JSON.parse(process.argv[2]);
const t1 = performance.now();
await mod.handler(event, {});
const firstRequestMs = performance.now() - t1;
const t2 = performance.now();
await mod.handler(event, {});
const secondRequestMs = performance.now() - t2;
process.stdout.write("\\nBENCH " + JSON.stringify({ importMs, warmUpMs: start && end ? end.startTime - start.startTime : 0, firstRequestMs, secondRequestMs }) + "\\n");
process.exit(0);
`;

/** Spawn `node args`, collecting its output (asynchronously: the stub endpoint answers from this event loop). */
function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string; wallMs: number }> {
  return new Promise((resolveRun, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolveRun({ status, stdout, stderr, wallMs: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

async function coldStart(file: string, event: unknown, env: NodeJS.ProcessEnv): Promise<ColdStart> {
  const result = await run(
    [...LAMBDA_NODE_OPTIONS, "--input-type=module", "-e", COLD_START_SCRIPT, pathToFileURL(file).href, JSON.stringify(event)],
    env,
  );
  const line = result.stdout.split("\n").find((l) => l.startsWith("BENCH "));
  if (result.status !== 0 || !line) throw new Error(`cold start of ${file} failed (exit ${result.status}): ${result.stderr.slice(-2000)}`);
  return { wallMs: result.wallMs, ...(JSON.parse(line.slice("BENCH ".length)) as Omit<ColdStart, "wallMs">) };
}

/** Wall time of a bare `node -e 0`. */
async function bareNode(env: NodeJS.ProcessEnv): Promise<number> {
  const result = await run([...LAMBDA_NODE_OPTIONS, "-e", "0"], env);
  if (result.status !== 0) throw new Error("node -e 0 failed");
  return result.wallMs;
}

/** An API Gateway proxy event for `method path` on `resource`. */
function proxyEvent(method: string, resource: string, path: string, pathParameters: Record<string, string> | null): unknown {
  return {
    resource,
    path,
    httpMethod: method,
    headers: { accept: "application/json" },
    multiValueHeaders: { accept: ["application/json"] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters,
    stageVariables: null,
    requestContext: {},
    body: null,
    isBase64Encoded: false,
  };
}

/**
 * The request each handler gets after init: one that reaches DynamoDB where
 * the handler reads it (an unknown partner or user: the stub answers every
 * read with "no item"), so the first request shows whether init warmed the
 * connection.
 */
const FIRST_REQUESTS: Record<HandlerEntry, unknown> = {
  health: proxyEvent("GET", "/healthz", "/healthz", null),
  "embed-page": proxyEvent("GET", "/embed/{partnerId}", "/embed/bench-partner", { partnerId: "bench-partner" }),
  session: proxyEvent("GET", "/embed/{partnerId}/session", "/embed/bench-partner/session", { partnerId: "bench-partner" }),
  enter: proxyEvent("GET", "/partner/{partnerId}/enter", "/partner/bench-partner/enter", { partnerId: "bench-partner" }),
  internal: proxyEvent("GET", "/internal/entitlements/{userId}", `/internal/entitlements/usr_${"0".repeat(32)}`, { userId: `usr_${"0".repeat(32)}` }),
  workspace: proxyEvent("GET", "/app/{proxy+}", "/app/", { proxy: "" }),
  embeddable: proxyEvent("GET", "/embed/{partnerId}/embeddable", "/embed/bench-partner/embeddable", { partnerId: "bench-partner" }),
  oidc: proxyEvent("GET", "/partner/{partnerId}/oidc/login", "/partner/bench-partner/oidc/login", { partnerId: "bench-partner" }),
};

/**
 * A stand-in AWS endpoint on loopback: every call answers 200 `{}` (DynamoDB:
 * no item). It makes the client-side cost of a first call measurable — Node
 * loading its HTTP stack, the SDK resolving config, signing, parsing — without
 * any network or service time in it. Real AWS adds a TLS handshake on top,
 * which the init warm-up moves out of the first request as well.
 */
async function startStubEndpoint(): Promise<{ url: string; calls: () => number; close: () => Promise<void> }> {
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "bench" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", () => resolveListen()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    close: () => new Promise<void>((resolveClose) => server.close(() => resolveClose())),
  };
}

export interface LambdaOptions {
  readonly runs?: number;
}

export async function measureLambdaBundles(options: LambdaOptions = {}): Promise<Measurement> {
  const runs = options.runs ?? 20;
  const outDir = join(REPO_ROOT, ".cache", "bench-bundles");
  const bundles = await bundleHandlers(outDir);
  const stub = await startStubEndpoint();
  try {
    return await measureWith(bundles, outDir, runs, stub);
  } finally {
    await stub.close();
  }
}

async function measureWith(
  bundles: readonly HandlerBundle[],
  outDir: string,
  runs: number,
  stub: { url: string; calls: () => number },
): Promise<Measurement> {
  // What a Lambda environment looks like at init: region, credentials, the settings and every table and secret name
  // (as the stack sets them), Lambda's init marker, and the stub as the AWS endpoint.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_ENDPOINT_URL: stub.url,
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    JUPID_SETTINGS: JSON.stringify({ environment: "staging", appUrl: "https://app.example", workspaceBasePath: "/app", sessionLifetimeSeconds: 3600 }),
    JUPID_SECRET_PREFIX: "bench/partners/",
    ...Object.fromEntries(["PARTNERS", "IDENTITIES", "REPLAY", "SESSIONS", "USAGE"].map((t) => [`JUPID_TABLE_${t}`, `bench-${t.toLowerCase()}`])),
  };
  // The same process without Lambda's init marker: no warm-up, the first request makes the first call.
  const { AWS_LAMBDA_INITIALIZATION_TYPE: _init, ...noWarmUpEnv } = env;

  // Baselines in the same run: a bare `node -e 0`, and the same script importing an empty module.
  const empty = join(outDir, "empty.mjs");
  await build({ ...LAMBDA_BUNDLE_OPTIONS, stdin: { contents: "export const handler = async () => ({});", loader: "js" }, outfile: empty });
  const bare: number[] = [];
  const emptyImport: number[] = [];
  const perBundle = new Map<HandlerEntry, ColdStart[]>(bundles.map((b) => [b.name, []]));
  const session = bundles.find((b) => b.name === "session");
  const sessionNoWarmUp: ColdStart[] = [];
  // Rounds interleave the processes, so a noisy second hurts every bundle alike.
  for (let round = 0; round < runs; round++) {
    bare.push(await bareNode(env));
    emptyImport.push((await coldStart(empty, {}, env)).importMs);
    for (const bundle of bundles) perBundle.get(bundle.name)?.push(await coldStart(bundle.file, FIRST_REQUESTS[bundle.name], env));
    if (session) sessionNoWarmUp.push(await coldStart(session.file, FIRST_REQUESTS.session, noWarmUpEnv));
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
    stubEndpointCalls: stub.calls(),
    bundles: {},
  };
  for (const bundle of bundles) {
    const starts = perBundle.get(bundle.name) as ColdStart[];
    const moduleInit = summarize(starts.map((s) => s.importMs - s.warmUpMs));
    const warmUp = summarize(starts.map((s) => s.warmUpMs));
    const first = summarize(starts.map((s) => s.firstRequestMs));
    const second = summarize(starts.map((s) => s.secondRequestMs));
    const wall = summarize(starts.map((s) => s.wallMs));
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
      name: `lambda ${bundle.name}: module init`,
      median: ms(moduleInit.median),
      p99: ms(moduleInit.p99),
      ratio: warmUp.median > 0 ? `+ warm-up call ${ms(warmUp.median)}` : "no AWS at init",
      goal: `≤ ${LAMBDA_INIT_GOAL_MS} ms`,
      pass: moduleInit.median <= LAMBDA_INIT_GOAL_MS,
      value: moduleInit.median,
      unit: "ms",
    });
    rows.push({
      name: `lambda ${bundle.name}: first request after init`,
      median: ms(first.median),
      p99: ms(first.p99),
      ratio: ratio(first.median, second.median, "second request"),
      goal: "reference",
      pass: undefined,
      value: first.median,
      unit: "ms",
    });
    (data.bundles as Record<string, unknown>)[bundle.name] = {
      bytes: bundle.bytes,
      mapBytes: bundle.mapBytes,
      moduleInitMs: moduleInit,
      warmUpMs: warmUp,
      firstRequestMs: first,
      secondRequestMs: second,
      processWallMs: wall,
      largestInputs: Object.fromEntries(bundle.breakdown.slice(0, 12)),
    };
  }
  const sessionStarts = perBundle.get("session") ?? [];
  if (session && sessionStarts.length > 0) {
    const warmUp = summarize(sessionStarts.map((s) => s.warmUpMs));
    const withWarmUp = summarize(sessionStarts.map((s) => s.firstRequestMs));
    const without = summarize(sessionNoWarmUp.map((s) => s.firstRequestMs));
    rows.push({
      name: "lambda: first DynamoDB call in a fresh process (made during init)",
      median: ms(warmUp.median),
      p99: ms(warmUp.p99),
      ratio: `first request ${ms(withWarmUp.median)} with it, ${ms(without.median)} without`,
      goal: "during init",
      pass: warmUp.median > 0 && withWarmUp.median < without.median,
      value: warmUp.median,
      unit: "ms",
    });
    data.sessionWithoutWarmUp = { firstRequestMs: without, moduleInitMs: summarize(sessionNoWarmUp.map((s) => s.importMs)) };
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
      `lambda: each cold start is a fresh \`node ${LAMBDA_NODE_OPTIONS.join(" ")}\` (${process.version}; Lambda runs ${LAMBDA_RUNTIME.name} on arm64) with the stack's environment and AWS_LAMBDA_INITIALIZATION_TYPE=on-demand, median of ${runs} (p99 column = slowest of ${runs}). module init = \`await import(bundle)\` minus the init warm-up (lambdas/handlers/runtime.ts: AWS runtime + one GetItem, between performance marks), shown beside it; then the handler is invoked twice with a request that reads DynamoDB where the handler does. AWS_ENDPOINT_URL is a loopback stub answering {} (${stub.calls()} calls), so these are client-side costs with no service time; bare \`node -e 0\` ${ms(bareWall.median)}, an empty module imports in ${ms(summarize(emptyImport).median)}.`,
    ],
  };
}
