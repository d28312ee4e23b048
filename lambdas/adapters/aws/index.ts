/**
 * The AWS adapters: DynamoDB tables and Secrets Manager secrets named by the
 * Lambda environment (set by the CDK stack), through the module-scope clients
 * in ./clients.ts.
 */
import type { Dependencies } from "../../ports/index.ts";
import { dynamoDbClient, secretsManagerClient } from "./clients.ts";
import { type Env, requireEnv } from "./env.ts";
import { DynamoIdentityStore } from "./identity-store.ts";
import { SecretsManagerPartnerSecrets } from "./partner-secrets.ts";
import { DynamoPartnerStore } from "./partner-store.ts";
import { DynamoReplayGuard } from "./replay-guard.ts";
import { DynamoSessionStore } from "./session-store.ts";
import { DynamoSignInStore } from "./sign-in-store.ts";
import { DynamoUsageStore } from "./usage-store.ts";

export { MissingEnvError, requireEnv } from "./env.ts";
export { DynamoIdentityStore } from "./identity-store.ts";
export { SecretsManagerPartnerSecrets } from "./partner-secrets.ts";
export { DynamoPartnerStore } from "./partner-store.ts";
export { DynamoReplayGuard } from "./replay-guard.ts";
export { DynamoSessionStore } from "./session-store.ts";
export { DynamoSignInStore } from "./sign-in-store.ts";
export { DynamoUsageStore } from "./usage-store.ts";

/** The environment variables the AWS adapters read (all required). */
export const AWS_ADAPTER_ENV = [
  "JUPID_TABLE_PARTNERS",
  "JUPID_TABLE_IDENTITIES",
  "JUPID_TABLE_REPLAY",
  "JUPID_TABLE_SESSIONS",
  "JUPID_TABLE_USAGE",
  "JUPID_SECRET_PREFIX",
] as const;

export interface AwsAdapterSettings {
  /** How long partner records and keys are cached in a warm process (0 = not cached). */
  readonly cacheSeconds: number;
  /** How long the previous partner key stays valid after a rotation. */
  readonly keyRotationOverlapSeconds: number;
}

/** Every port backed by AWS; throws naming the variable when one of {@link AWS_ADAPTER_ENV} is missing. */
export function createAwsDependencies(settings: AwsAdapterSettings, env: Env = process.env): Dependencies {
  const clock = Date.now;
  const tables = {
    replay: requireEnv("JUPID_TABLE_REPLAY", env),
    identities: requireEnv("JUPID_TABLE_IDENTITIES", env),
    sessions: requireEnv("JUPID_TABLE_SESSIONS", env),
  };
  return {
    partners: new DynamoPartnerStore(dynamoDbClient, requireEnv("JUPID_TABLE_PARTNERS", env), settings.cacheSeconds, clock),
    secrets: new SecretsManagerPartnerSecrets(secretsManagerClient, {
      secretPrefix: requireEnv("JUPID_SECRET_PREFIX", env),
      keyRotationOverlapSeconds: settings.keyRotationOverlapSeconds,
      cacheSeconds: settings.cacheSeconds,
      clock,
    }),
    identities: new DynamoIdentityStore(dynamoDbClient, tables.identities),
    replay: new DynamoReplayGuard(dynamoDbClient, tables.replay, clock),
    sessions: new DynamoSessionStore(dynamoDbClient, tables.sessions),
    signIns: new DynamoSignInStore(dynamoDbClient, tables, clock),
    usage: new DynamoUsageStore(dynamoDbClient, requireEnv("JUPID_TABLE_USAGE", env)),
    clock,
  };
}
