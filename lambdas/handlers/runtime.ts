/**
 * What a handler runs with: the ports, the environment settings and how
 * internal callers are authenticated. Lambda entries build it once per cold
 * start from the environment; the local gateway builds it from memory.
 *
 * In a Lambda init phase (Lambda sets AWS_LAMBDA_INITIALIZATION_TYPE only
 * then) importing this module also builds the AWS runtime and makes the
 * first DynamoDB call, so that the first request does not pay for it (see
 * {@link warmUpDynamoDb}; bench/lambda-bundles.ts measures both). Anywhere
 * else — the local gateway, tests — importing it does nothing.
 */
import { timingSafeEqual } from "node:crypto";
import { createAwsDependencies, warmUpDynamoDb } from "../adapters/aws/index.ts";
import type { GatewaySettings } from "../core/settings.ts";
import type { Dependencies } from "../ports/index.ts";
import { header, type HttpEvent } from "../http/request.ts";
import { log } from "../http/logger.ts";
import { lambdaSettings } from "./lambda-settings.ts";

export interface Runtime {
  readonly deps: Dependencies;
  readonly settings: GatewaySettings;
  /**
   * How `/internal/*` callers prove who they are. In AWS, API Gateway's IAM
   * authoriser has already checked the SigV4 signature before the Lambda runs;
   * locally a development key in `x-jupid-internal-key` stands in for it.
   */
  readonly internalAuth: { readonly kind: "iam" } | { readonly kind: "key"; readonly key: string };
}

/** Handlers take a getter so that importing a handler module does no work. */
export type RuntimeSource = () => Runtime;

let aws: Runtime | undefined;

/** The Lambda runtime: settings from JUPID_SETTINGS, AWS adapters, IAM-authorised internal routes. */
export const awsRuntime: RuntimeSource = () => {
  if (!aws) {
    const settings = lambdaSettings();
    aws = { deps: createAwsDependencies(settings), settings, internalAuth: { kind: "iam" } };
  }
  return aws;
};

/** Performance mark names around the init warm-up (read by bench/lambda-bundles.ts). */
export const WARM_UP_MARKS = { start: "jupid:warm-up:start", end: "jupid:warm-up:end" } as const;

/**
 * Build the AWS runtime and make the first DynamoDB call now. Never throws:
 * a failure here (a throttle, a blip) must not fail the init; the request
 * that needs DynamoDB reports its own error.
 */
export async function warmUpAwsRuntime(): Promise<void> {
  performance.mark(WARM_UP_MARKS.start);
  try {
    awsRuntime();
    await warmUpDynamoDb();
  } catch (error) {
    log("warn", "init warm-up failed", { error: error instanceof Error ? error.name : "unknown" });
  } finally {
    performance.mark(WARM_UP_MARKS.end);
  }
}

if (process.env.AWS_LAMBDA_INITIALIZATION_TYPE !== undefined) await warmUpAwsRuntime();

export function isInternalCallerAllowed(runtime: Runtime, event: HttpEvent): boolean {
  if (runtime.internalAuth.kind === "iam") return true;
  const given = Buffer.from(header(event, "x-jupid-internal-key") ?? "");
  const expected = Buffer.from(runtime.internalAuth.key);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
