/**
 * Measurements 2 and 3: session creation end to end, over HTTP on loopback.
 *
 * The gateway runs in a child process (bench/gateway-process.ts); autocannon
 * runs here and POSTs /embed/{partnerId}/session with a freshly minted,
 * unique-jti token in every request. Tokens are minted before the run (and,
 * should the pool run dry, here on the fly), never in the gateway's process.
 * Subs cycle through 1,000 users: the first login of each creates the user,
 * every later one is a returning user (the common case).
 */
import autocannon from "autocannon";
import { mintToken } from "../test/fixtures/tokens.ts";
import { type ChildGateway, startChildGateway } from "./gateway-process.ts";
import type { GatewaySpec } from "./gateway-server.ts";
import { summarizeProfile } from "./profile.ts";
import { ms, summarize } from "./stats.ts";

export const PARTNER_ID = "bench-partner";
export const PARTNER_ORIGIN = "http://localhost:3000";
const USERS = 1_000;

export interface LoadOptions {
  readonly label: string;
  readonly spec: GatewaySpec;
  readonly secret: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Seconds of the measured run. */
  readonly duration: number;
  readonly connections: number;
  /** Seconds of an unmeasured run first (JIT, connection setup, first-login users). */
  readonly warmup: number;
  /** Write and summarise a CPU profile of the gateway process. */
  readonly profile?: boolean;
}

export interface LoadResult {
  readonly label: string;
  readonly durationS: number;
  readonly connections: number;
  readonly completed: number;
  /** 200 responses per second between the first and the last response of the measured run. */
  readonly requestsPerSecond: number;
  /** Median and lowest of autocannon's per-second counts. */
  readonly perSecondMedian: number;
  readonly perSecondMin: number;
  readonly latencyMs: ReturnType<typeof summarize>;
  readonly statusCodes: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly mintedOnTheFly: number;
  /** Gateway process CPU per completed session (user + system). */
  readonly gatewayCpuMsPerSession: number;
  readonly gatewayRssMiB: number;
  readonly profileFile?: string;
  readonly profileTop?: string[];
}

export async function runSessionLoad(options: LoadOptions): Promise<LoadResult> {
  let counter = 0;
  let mintedOnTheFly = 0;
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const body = (i: number, iat: number) =>
    JSON.stringify({
      token: mintToken(PARTNER_ID, { secret: options.secret, claims: { sub: `bench-user-${i % USERS}` } }, iat),
      parentOrigin: PARTNER_ORIGIN,
    });

  const gateway = await startChildGateway({
    spec: options.spec,
    env: options.env,
    cpuProfile: options.profile ? `sessions-${options.label}` : undefined,
  });
  try {
    // One request by hand first: the route must answer 200 with a cookie, or the load figures mean nothing.
    const probe = await fetch(`${gateway.url}/embed/${PARTNER_ID}/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body(counter++, nowSeconds()),
    });
    if (probe.status !== 200 || !probe.headers.get("set-cookie")) {
      throw new Error(`probe sign-in answered ${probe.status}: ${await probe.text()}`);
    }

    const run = async (seconds: number, pool: string[]) => {
      let next = 0;
      const latencies: number[] = [];
      const statusCodes: Record<string, number> = {};
      const instance = autocannon(
        {
          url: gateway.url,
          connections: options.connections,
          pipelining: 1,
          duration: seconds,
          timeout: 10,
          requests: [
            {
              method: "POST",
              path: `/embed/${PARTNER_ID}/session`,
              headers: { "content-type": "application/json" },
              setupRequest: (request) => {
                let payload = pool[next];
                if (payload === undefined) {
                  payload = body(counter++, nowSeconds());
                  mintedOnTheFly++;
                } else {
                  pool[next] = ""; // release the string
                }
                next++;
                return { ...request, body: payload };
              },
            },
          ],
        },
        () => undefined,
      );
      let first = 0n;
      let last = 0n;
      instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        last = process.hrtime.bigint();
        if (first === 0n) first = last;
        latencies.push(responseTime);
        statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      });
      const result = await new Promise<autocannon.Result>((resolveRun) => instance.once("done", resolveRun));
      // autocannon's own duration includes its shutdown; the span between the first and last response does not.
      const spanS = Number(last - first) / 1e9;
      return { result, latencies, statusCodes, spanS };
    };

    const mintPool = (size: number) => {
      const iat = nowSeconds();
      return Array.from({ length: size }, () => body(counter++, iat));
    };

    const warm = await run(options.warmup, mintPool(2_000));
    // Size the pool from the warm-up rate with ample room (a warm gateway is faster than a warming one);
    // anything beyond it is minted on the fly, here, and counted.
    const warmRate = warm.result.requests.total / Math.max(1, options.warmup);
    const pool = mintPool(Math.min(200_000, Math.max(30_000, Math.ceil(warmRate * options.duration * 2.5))));
    mintedOnTheFly = 0;

    const before = await gateway.usage();
    const { result, latencies, statusCodes, spanS } = await run(options.duration, pool);
    const after = await gateway.usage();

    const completed = statusCodes["200"] ?? 0;
    const durationS = spanS;
    const profileFile = await gateway.stop();
    return {
      label: options.label,
      durationS,
      connections: options.connections,
      completed,
      requestsPerSecond: completed / durationS,
      perSecondMedian: result.requests.p50,
      perSecondMin: result.requests.min,
      latencyMs: summarize(latencies),
      statusCodes,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      mintedOnTheFly,
      gatewayCpuMsPerSession: (after.cpuMs - before.cpuMs) / Math.max(1, completed),
      gatewayRssMiB: after.rss / 2 ** 20,
      ...(profileFile ? { profileFile, profileTop: summarizeProfile(profileFile, 15) } : {}),
    };
  } finally {
    await stopQuietly(gateway);
  }
}

async function stopQuietly(gateway: ChildGateway): Promise<void> {
  try {
    await gateway.stop();
  } catch {
    // already stopped
  }
}

/** One line for the notes under the table. */
export function describeLoad(result: LoadResult): string {
  return `${result.label}: ${result.completed} sessions in ${result.durationS.toFixed(1)} s over ${result.connections} connections; latency median ${ms(result.latencyMs.median)}, p99 ${ms(result.latencyMs.p99)}, max ${ms(result.latencyMs.max)}; gateway CPU ${result.gatewayCpuMsPerSession.toFixed(3)} ms/session, RSS ${result.gatewayRssMiB.toFixed(0)} MiB; errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}; tokens minted on the fly ${result.mintedOnTheFly}`;
}
