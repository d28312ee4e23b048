/**
 * The AWS adapters: DynamoDB tables and Secrets Manager secrets named by the
 * Lambda environment (set by the CDK stack), through the module-scope clients
 * in ./clients.ts.
 */
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { Dependencies, PartnerSecrets } from "../../ports/index.ts";
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

/**
 * Every port backed by AWS; throws naming the variable when one of
 * {@link AWS_ADAPTER_ENV} is missing. The DynamoDB client is built here; the
 * Secrets Manager client only when the partner keys are first asked for, so
 * a handler that never signs anyone in never builds it.
 */
export function createAwsDependencies(settings: AwsAdapterSettings, env: Env = process.env): Dependencies {
  const clock = Date.now;
  const dynamoDb = dynamoDbClient();
  const tables = {
    replay: requireEnv("JUPID_TABLE_REPLAY", env),
    identities: requireEnv("JUPID_TABLE_IDENTITIES", env),
    sessions: requireEnv("JUPID_TABLE_SESSIONS", env),
  };
  const secretPrefix = requireEnv("JUPID_SECRET_PREFIX", env);
  let secrets: PartnerSecrets | undefined;
  return {
    partners: new DynamoPartnerStore(dynamoDb, requireEnv("JUPID_TABLE_PARTNERS", env), settings.cacheSeconds, clock),
    get secrets(): PartnerSecrets {
      secrets ??= new SecretsManagerPartnerSecrets(secretsManagerClient(), {
        secretPrefix,
        keyRotationOverlapSeconds: settings.keyRotationOverlapSeconds,
        cacheSeconds: settings.cacheSeconds,
        clock,
      });
      return secrets;
    },
    identities: new DynamoIdentityStore(dynamoDb, tables.identities),
    replay: new DynamoReplayGuard(dynamoDb, tables.replay, clock),
    sessions: new DynamoSessionStore(dynamoDb, tables.sessions),
    signIns: new DynamoSignInStore(dynamoDb, tables, clock),
    usage: new DynamoUsageStore(dynamoDb, requireEnv("JUPID_TABLE_USAGE", env)),
    clock,
  };
}

/** The key {@link warmUpDynamoDb} reads: not a partner id (PARTNER_ID_PATTERN has no "#"), so it never exists. */
export const WARM_UP_KEY = "#warm-up";

/**
 * One cheap DynamoDB call (a GetItem of a key that cannot exist in the
 * partners table, which every DynamoDB-using function may read), so that
 * the first request of a fresh process does not pay for what the first call
 * costs: Node loading its HTTP/TLS stack, the SDK resolving its config and
 * credentials, the connection's handshake. Lambda handlers make it during
 * init (lambdas/handlers/runtime.ts).
 */
export async function warmUpDynamoDb(env: Env = process.env): Promise<void> {
  await dynamoDbClient().send(
    new GetItemCommand({ TableName: requireEnv("JUPID_TABLE_PARTNERS", env), Key: { id: { S: WARM_UP_KEY } } }),
  );
}
