/**
 * Measurements 2 and 3 as table rows: session creation over HTTP against
 * the in-memory stores, then against the DynamoDB / Secrets Manager adapters
 * on the MiniStack emulator (a relative figure: an emulator in Python on the
 * same two cores says nothing about DynamoDB's own latency).
 */
import type { PartnerConfig } from "../config/schema.ts";
import { type AwsTestResources, createAwsTestResources, randomPartnerSecret } from "../test/support/aws-tables.ts";
import { type RunningEmulator, startMiniStack } from "../test/support/ministack.ts";
import { partnerInput, testEnvironment } from "../test/fixtures/partners.ts";
import type { Measurement, Row } from "./report.ts";
import { describeLoad, type LoadResult, PARTNER_ID, PARTNER_ORIGIN, runSessionLoad } from "./session-load.ts";
import { ms, perSecond, ratio } from "./stats.ts";

export const SESSIONS_GOAL_P99_MS = 20;

export interface SessionsOptions {
  readonly duration?: number;
  readonly connections?: number;
  readonly warmup?: number;
  readonly profile?: boolean;
}

function benchConfig() {
  return testEnvironment([partnerInput(PARTNER_ID, { allowedOrigins: [PARTNER_ORIGIN] })], { cacheSeconds: 60 });
}

const errorsOf = (r: LoadResult) => r.errors + r.timeouts + r.non2xx;

/** Issue 16: the local gateway's sign-ins per second, at least this share of the floor server's in the same run. */
export const GATEWAY_GOAL_FLOOR_RATIO = 0.5;

/**
 * The local gateway (in-memory ports) and its floor (bench/floor-server.ts:
 * the same contract with the least work), each under the same load, one
 * after the other in the same run.
 */
export async function measureSessionsMemory(options: SessionsOptions = {}): Promise<{ measurement: Measurement; result: LoadResult }> {
  const load = (label: string, mode: "memory" | "floor") => {
    const secret = randomPartnerSecret();
    return runSessionLoad({
      label,
      spec: { mode, config: benchConfig(), secrets: { [PARTNER_ID]: secret } },
      secret,
      duration: options.duration ?? 10,
      connections: options.connections ?? 20,
      warmup: options.warmup ?? 3,
      profile: options.profile,
    });
  };
  const floor = await load("floor", "floor");
  const result = await load("memory", "memory");
  const throughputRatio = result.perSecondMedian / floor.perSecondMedian;
  const rows: Row[] = [
    {
      name: "HTTP session create, floor server: throughput",
      median: perSecond(floor.perSecondMedian),
      p99: "—",
      ratio: `errors ${errorsOf(floor)}, CPU ${ms(floor.gatewayCpuMsPerSession)}/session`,
      goal: "reference",
      pass: undefined,
      value: floor.perSecondMedian,
      unit: "req/s",
    },
    {
      name: "HTTP session create, local gateway: throughput",
      median: perSecond(result.perSecondMedian),
      p99: "—",
      ratio: `${ratio(result.perSecondMedian, floor.perSecondMedian, "floor")}, errors ${errorsOf(result)}`,
      goal: `≥ ${GATEWAY_GOAL_FLOOR_RATIO}× floor, 0 errors`,
      pass: throughputRatio >= GATEWAY_GOAL_FLOOR_RATIO && errorsOf(result) === 0 && errorsOf(floor) === 0,
      value: result.perSecondMedian,
      unit: "req/s",
    },
    {
      name: "HTTP session create, local gateway: latency",
      median: ms(result.latencyMs.median),
      p99: ms(result.latencyMs.p99),
      ratio: `CPU ${ms(result.gatewayCpuMsPerSession)}/session = ${ratio(result.gatewayCpuMsPerSession, floor.gatewayCpuMsPerSession, "floor")}`,
      goal: "p99 < 20 ms",
      pass: result.latencyMs.p99 < SESSIONS_GOAL_P99_MS,
      value: result.latencyMs.median,
      unit: "ms",
    },
  ];
  return {
    result,
    measurement: {
      rows,
      data: { gateway: { ...result }, floor: { ...floor }, throughputRatio },
      notes: [
        `sessions: each server in a child \`node --import tsx bench/gateway-server.ts\` (its own event loop and core; the gateway's request logs written to /dev/null, as Lambda writes them), autocannon in the bench process, ${result.connections} connections, ${options.warmup ?? 3} s warm-up then ${result.durationS.toFixed(0)} s measured; every request a pre-minted token with a unique jti (1,000 users: returning users after the warm-up). Throughput median = median of per-second counts; latency from every response. The floor (bench/floor-server.ts) does the same sign-in contract with the least work: node:http, the HMAC and the claims the contract needs, in-memory maps, no framework or logs.`,
        describeLoad(floor),
        describeLoad(result),
        ...(result.profileTop ?? []).map((line) => `  ${line}`),
      ],
    },
  };
}

export async function measureSessionsDynamo(
  memory: LoadResult | undefined,
  options: SessionsOptions = {},
): Promise<Measurement> {
  const log: string[] = [];
  const given = process.env.AWS_ENDPOINT_URL;
  let emulator: RunningEmulator | undefined;
  let resources: AwsTestResources | undefined;
  const savedEnv = { ...process.env };
  try {
    if (!given) emulator = await startMiniStack((line) => log.push(line));
    const endpoint = given ?? (emulator as RunningEmulator).endpoint;
    // aws-tables.ts reads the endpoint from the environment; credentials are the emulator's dummies.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: process.env.AWS_REGION ?? "us-east-1",
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? "test",
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? "test",
    });
    resources = await createAwsTestResources("bench");
    const config = benchConfig();
    await resources.putPartner(config.partners[0] as PartnerConfig);
    const secret = randomPartnerSecret();
    await resources.createSecret(PARTNER_ID, secret);
    const result = await runSessionLoad({
      label: "dynamodb",
      spec: { mode: "aws", config, secrets: {} },
      secret,
      env: {
        ...resources.env,
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: process.env.AWS_REGION as string,
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID as string,
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY as string,
      },
      duration: options.duration ?? 5,
      connections: options.connections ?? 10,
      warmup: options.warmup ?? 2,
      profile: options.profile,
    });
    const rows: Row[] = [
      {
        name: "HTTP session create, DynamoDB on MiniStack: throughput",
        median: perSecond(result.perSecondMedian),
        p99: "—",
        ratio: memory ? ratio(result.perSecondMedian, memory.perSecondMedian, "in-memory") : "—",
        goal: `relative only, errors ${errorsOf(result)}`,
        pass: undefined,
        value: result.perSecondMedian,
        unit: "req/s",
      },
      {
        name: "HTTP session create, DynamoDB on MiniStack: latency",
        median: ms(result.latencyMs.median),
        p99: ms(result.latencyMs.p99),
        ratio: memory ? ratio(result.latencyMs.median, memory.latencyMs.median, "in-memory") : "—",
        goal: "relative only",
        pass: undefined,
        value: result.latencyMs.median,
        unit: "ms",
      },
    ];
    return {
      rows,
      data: { endpoint: given ? "AWS_ENDPOINT_URL (given)" : "MiniStack started by the bench", ...result },
      notes: [
        `dynamodb: same load against the AWS adapters (DynamoDB + Secrets Manager, partner record and keys cached ${config.cacheSeconds} s in the warm process) on ${given ? `AWS_ENDPOINT_URL=${given}` : "MiniStack (test/support/ministack.ts)"}, which runs on the same 2 cores as the gateway and the load generator: a relative figure, not DynamoDB's.`,
        describeLoad(result),
        ...(result.profileTop ?? []).map((line) => `  ${line}`),
      ],
    };
  } finally {
    // A harness-owned MiniStack is wiped by stopping it; a given endpoint keeps running, so clean up there.
    if (resources && given) await resources.dispose();
    await emulator?.stop();
    for (const name of ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
      if (savedEnv[name] === undefined) delete process.env[name];
      else process.env[name] = savedEnv[name];
    }
  }
}
