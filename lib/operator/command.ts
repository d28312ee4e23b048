/** The shape of one command, and what commands share (environment options, key sources, reveal rules). */
import type { PartnerKey } from "../../lambdas/ports/index.ts";
import { type HelpSpec, type OptionTable, type ParsedArgs, flag, stringOption } from "./args.ts";
import {
  LOCAL_KID,
  localSecretsFile,
  readLocalSecret,
  readSecretFile,
  type SelectedEnvironment,
  secretPrefix,
} from "./environment.ts";
import { CliError, type CliIo, EXIT, type Output } from "./io.ts";
import { createSecretsClient, PartnerSecretsAdmin } from "./partner-secrets-admin.ts";

export interface CommandContext {
  readonly io: CliIo;
  readonly out: Output;
}

export interface Command extends HelpSpec {
  /** e.g. "partners list" */
  readonly name: string;
  run(args: ParsedArgs, ctx: CommandContext): Promise<number>;
}

export const ENV_OPTIONS = {
  env: { type: "string", value: "<env>", description: "local | integration | staging | production" },
  config: { type: "string", value: "<file>", description: "partner file to read instead of config/partners.<env>.json (env: JUPID_PARTNERS_FILE)" },
} as const satisfies OptionTable;

export const AWS_OPTIONS = {
  region: { type: "string", value: "<region>", description: "AWS region (default: aws.region of the partner file, else AWS_REGION / profile)" },
  "secret-prefix": {
    type: "string",
    value: "<prefix>",
    description: "Secrets Manager name prefix (default: JUPID_SECRET_PREFIX, else jupid-embed/<env>/partners/)",
  },
} as const satisfies OptionTable;

export const REVEAL_OPTION = {
  reveal: { type: "boolean", description: "print the secret even when stdout is not a terminal (and in --json)" },
} as const satisfies OptionTable;

/** Secret values go to a terminal, or anywhere with an explicit --reveal; --json output needs --reveal. */
export function mayReveal(args: ParsedArgs, out: Output): boolean {
  return flag(args, "reveal") || (out.interactive && !out.json);
}

export function envFlags(args: ParsedArgs): { env?: string; config?: string } {
  const env = stringOption(args, "env");
  const config = stringOption(args, "config");
  return { ...(env === undefined ? {} : { env }), ...(config === undefined ? {} : { config }) };
}

/** The Secrets Manager side of an AWS environment. */
export async function secretsAdmin(selected: SelectedEnvironment, args: ParsedArgs, ctx: CommandContext): Promise<PartnerSecretsAdmin> {
  const region = stringOption(args, "region") ?? selected.config.aws?.region;
  const endpoint = ctx.io.env.AWS_ENDPOINT_URL;
  ctx.out.progress(
    `Secrets Manager ${endpoint ? `at ${endpoint}` : "(AWS)"}${region ? `, region ${region}` : ctx.io.env.AWS_REGION ? `, region ${ctx.io.env.AWS_REGION}` : ""}`,
  );
  const client = await createSecretsClient(region);
  return new PartnerSecretsAdmin(
    client,
    secretPrefix(selected.name, ctx.io, stringOption(args, "secret-prefix")),
    selected.config.keyRotationOverlapSeconds,
    ctx.io.now,
  );
}

export interface KeySet {
  readonly keys: readonly PartnerKey[];
  /** Human description of where they came from (file path or secret name); never the value. */
  readonly source: string;
}

/**
 * The partner's keys as the gateway of `selected` sees them: `--secret-file`
 * (one key), the local secrets file for `local`, else Secrets Manager through
 * the gateway's adapter (current and previous, with the overlap end).
 */
export async function loadPartnerKeys(
  selected: SelectedEnvironment,
  partnerId: string,
  args: ParsedArgs,
  ctx: CommandContext,
  fileKid = "secret-file",
): Promise<KeySet> {
  const secretFile = stringOption(args, "secret-file");
  if (secretFile !== undefined) {
    return { keys: [{ kid: fileKid, secret: readSecretFile(secretFile, partnerId, ctx.io), stage: "current" }], source: secretFile };
  }
  if (selected.name === "local") {
    const file = localSecretsFile(selected.name, ctx.io);
    return { keys: [{ kid: LOCAL_KID, secret: readLocalSecret(file, partnerId), stage: "current" }], source: file };
  }
  const admin = await secretsAdmin(selected, args, ctx);
  const name = admin.secretName(partnerId);
  ctx.out.progress(`reading ${name}`);
  const keys = await admin.gatewayKeys(partnerId);
  if (keys.length === 0) {
    throw new CliError("SECRET_NOT_FOUND", `${name} does not exist or has no current version`, EXIT.FAILED, "the CDK stack creates it at deploy");
  }
  return { keys, source: `Secrets Manager ${name}` };
}
