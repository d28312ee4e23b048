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

export const SESSIONS_GOAL_PER_SECOND = 2_000;
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

export async function measureSessionsMemory(options: SessionsOptions = {}): Promise<{ measurement: Measurement; result: LoadResult }> {
  const secret = randomPartnerSecret();
  const result = await runSessionLoad({
    label: "memory",
    spec: { mode: "memory", config: benchConfig(), secrets: { [PARTNER_ID]: secret } },
    secret,
    duration: options.duration ?? 10,
    connections: options.connections ?? 20,
    warmup: options.warmup ?? 3,
    profile: options.profile,
  });
  const rows: Row[] = [
    {
      name: "HTTP session create, in-memory: throughput",
      median: perSecond(result.perSecondMedian),
      p99: "—",
      ratio: `mean ${perSecond(result.requestsPerSecond)}, errors ${errorsOf(result)}`,
      goal: "≥ 2,000/s, 0 errors",
      pass: result.perSecondMedian >= SESSIONS_GOAL_PER_SECOND && errorsOf(result) === 0,
      value: result.perSecondMedian,
      unit: "req/s",
    },
    {
      name: "HTTP session create, in-memory: latency",
      median: ms(result.latencyMs.median),
      p99: ms(result.latencyMs.p99),
      ratio: `gateway CPU ${ms(result.gatewayCpuMsPerSession)}/session`,
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
      data: { ...result },
      notes: [
        `sessions: gateway in a child \`node --import tsx bench/gateway-server.ts\` (its own event loop and core; request logs written to /dev/null), autocannon in the bench process, ${result.connections} connections, ${options.warmup ?? 3} s warm-up then ${result.durationS.toFixed(0)} s measured; every request a pre-minted token with a unique jti (1,000 users: returning users after the warm-up). Throughput median = median of per-second counts; latency from every response (hrtime, float ms).`,
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
