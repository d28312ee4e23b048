/**
 * Child-process entry: the local gateway alone in its own Node process, so
 * that the load generator (autocannon, in the parent) and the server never
 * share an event loop or a core's worth of JIT and GC.
 *
 * Started by bench/gateway-process.ts as `node --import tsx bench/gateway-server.ts`
 * with BENCH_GATEWAY_SPEC in the environment and an IPC channel. Reports its
 * URL over IPC, answers `{type: "usage"}` with its CPU and memory use, and
 * exits when the parent disconnects. Request logs go to stdout, which the
 * parent points at /dev/null: the cost of writing them stays in the figures,
 * as it does in Lambda.
 */
import { parseEnvironmentConfig } from "../config/schema.ts";
import { createAwsDependencies } from "../lambdas/adapters/aws/index.ts";
import { startGateway } from "../lambdas/local/gateway.ts";
import { startFloorServer } from "./floor-server.ts";

export interface GatewaySpec {
  /**
   * `memory`: the gateway's own in-memory ports; `aws`: DynamoDB/Secrets Manager adapters (endpoint from
   * AWS_ENDPOINT_URL); `floor`: not the gateway but bench/floor-server.ts, the same contract with the least work.
   */
  readonly mode: "memory" | "aws" | "floor";
  /** Environment config input (validated here with the real schema). */
  readonly config: unknown;
  readonly secrets: Readonly<Record<string, string>>;
  /** Serve https with the local self-signed certificate (see lambdas/local/tls.ts). @default false */
  readonly tls?: boolean;
}

export type GatewayMessage =
  | { readonly type: "listening"; readonly url: string; readonly pid: number }
  | { readonly type: "usage"; readonly cpu: NodeJS.CpuUsage; readonly rss: number; readonly heapUsed: number };

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.BENCH_GATEWAY_SPEC ?? "null") as GatewaySpec | null;
  if (!spec || !process.send) throw new Error("bench/gateway-server.ts runs as a child of bench/gateway-process.ts");
  const config = parseEnvironmentConfig(spec.config, "bench gateway spec");
  if (spec.mode === "floor") {
    const floor = await startFloorServer({
      secrets: spec.secrets,
      origins: Object.fromEntries(config.partners.map((partner) => [partner.id, partner.allowedOrigins])),
      sessionLifetimeSeconds: config.sessionLifetimeSeconds,
    });
    listen(floor.url, floor.close);
    return;
  }
  const deps =
    spec.mode === "aws"
      ? createAwsDependencies({ cacheSeconds: config.cacheSeconds, keyRotationOverlapSeconds: config.keyRotationOverlapSeconds })
      : undefined;
  const gateway = await startGateway({ config, secrets: spec.secrets, port: 0, deps, tls: spec.tls === true });
  listen(gateway.url, gateway.close);
}

/** Report the URL, answer usage requests, close and exit when the parent disconnects. */
function listen(url: string, close: () => Promise<void>): void {
  const send = (message: GatewayMessage) => process.send?.(message);
  process.on("message", (message: { type?: string }) => {
    if (message?.type === "usage") {
      const memory = process.memoryUsage();
      send({ type: "usage", cpu: process.cpuUsage(), rss: memory.rss, heapUsed: memory.heapUsed });
    }
  });
  process.once("disconnect", () => {
    // A normal exit, so that --cpu-prof (when the parent asked for it) writes its profile.
    void close().finally(() => process.exit(0));
  });
  send({ type: "listening", url, pid: process.pid });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench gateway failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
