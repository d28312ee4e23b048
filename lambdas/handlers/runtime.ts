/**
 * What a handler runs with: the ports, the environment settings and how
 * internal callers are authenticated. Lambda entries build it once per cold
 * start from the environment; the local gateway builds it from memory.
 */
import { timingSafeEqual } from "node:crypto";
import { createAwsDependencies } from "../adapters/aws/index.ts";
import { parseSettings, type GatewaySettings } from "../core/settings.ts";
import type { Dependencies } from "../ports/index.ts";
import { header, type HttpEvent } from "../http/request.ts";

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
    const json = process.env.JUPID_SETTINGS;
    if (!json) throw new Error("JUPID_SETTINGS is not set");
    const settings = parseSettings(json);
    aws = { deps: createAwsDependencies(settings), settings, internalAuth: { kind: "iam" } };
  }
  return aws;
};

export function isInternalCallerAllowed(runtime: Runtime, event: HttpEvent): boolean {
  if (runtime.internalAuth.kind === "iam") return true;
  const given = Buffer.from(header(event, "x-jupid-internal-key") ?? "");
  const expected = Buffer.from(runtime.internalAuth.key);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
