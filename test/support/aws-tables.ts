/**
 * AWS resources for one test file on the emulator: the five tables (key
 * schemas and TTL as the CDK stack will create them) under a unique name
 * prefix, a unique secret prefix, and helpers to seed partners and to create
 * and rotate partner secrets. Returns the env map `createAwsDependencies` reads.
 *
 * Clients here are pointed explicitly at the emulator endpoint, so a test can
 * never create anything in a real account.
 */
import { randomBytes, randomUUID } from "node:crypto";
import {
  type AttributeDefinition,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  type KeySchemaElement,
  PutItemCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import type { PartnerConfig } from "../../config/schema.ts";
import { oidcClientSecretName } from "../../lambdas/adapters/aws/partner-secrets.ts";
import { emulatorEndpoint } from "./ministack.ts";

/** The variables of {@link createAwsDependencies} (lambdas/adapters/aws/index.ts). */
export interface AwsTestEnv {
  JUPID_TABLE_PARTNERS: string;
  JUPID_TABLE_IDENTITIES: string;
  JUPID_TABLE_REPLAY: string;
  JUPID_TABLE_SESSIONS: string;
  JUPID_TABLE_USAGE: string;
  JUPID_SECRET_PREFIX: string;
}

interface TableSpec {
  readonly envName: keyof AwsTestEnv;
  readonly suffix: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly ttlAttribute?: string;
  readonly index?: { readonly name: string; readonly partitionKey: string; readonly sortKey: string };
}

/** Mirrors the brief's table list (team-brief.md "AWS resources"); the CDK data construct must match it. */
export const TABLE_SPECS: readonly TableSpec[] = [
  { envName: "JUPID_TABLE_PARTNERS", suffix: "partners", partitionKey: "id" },
  { envName: "JUPID_TABLE_IDENTITIES", suffix: "identities", partitionKey: "pk", sortKey: "sk" },
  { envName: "JUPID_TABLE_REPLAY", suffix: "replay", partitionKey: "key", ttlAttribute: "expiresAt" },
  {
    envName: "JUPID_TABLE_SESSIONS",
    suffix: "sessions",
    partitionKey: "idHash",
    ttlAttribute: "expiresAt",
    index: { name: "byUser", partitionKey: "userId", sortKey: "partnerId" },
  },
  { envName: "JUPID_TABLE_USAGE", suffix: "usage", partitionKey: "userId", sortKey: "metric" },
];

let clients: { dynamodb: DynamoDBClient; secrets: SecretsManagerClient } | undefined;

/** DynamoDB and Secrets Manager clients bound to the emulator (never the ambient AWS account). */
export function emulatorClients(): { dynamodb: DynamoDBClient; secrets: SecretsManagerClient } {
  if (!clients) {
    const endpoint = emulatorEndpoint();
    const config = {
      endpoint,
      region: process.env.AWS_REGION ?? "us-east-1",
      credentials: {
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "test",
        secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "test",
      },
    };
    clients = { dynamodb: new DynamoDBClient(config), secrets: new SecretsManagerClient(config) };
  }
  return clients;
}

/** A random secret of the shape the CDK generates (alphanumeric, no punctuation), 48 chars. */
export function randomPartnerSecret(): string {
  return randomBytes(36).toString("base64url").replace(/[-_]/g, "x");
}

export interface AwsTestResources {
  readonly env: AwsTestEnv;
  /** Write a partner record as the deploy step does: `{id, config: JSON, updatedAt}`. */
  putPartner(config: PartnerConfig): Promise<void>;
  /** Create the partner's secret; returns its VersionId (the kid of the current key). */
  createSecret(partnerId: string, secret: string): Promise<string>;
  /** Rotate: PutSecretValue makes the new value AWSCURRENT and the old one AWSPREVIOUS; returns the new VersionId. */
  rotateSecret(partnerId: string, secret: string): Promise<string>;
  /** End a rotation overlap early: remove the AWSPREVIOUS stage. */
  endOverlap(partnerId: string): Promise<void>;
  /** Create or replace the partner's OIDC client secret (as `secret set --kind oidc` does). */
  putOidcClientSecret(partnerId: string, secret: string): Promise<void>;
  /** Delete the tables and secrets (for shared emulators; a harness-owned MiniStack is wiped anyway). */
  dispose(): Promise<void>;
}

/**
 * Create the five tables under `jt-<label>-<random>-` and a secret prefix
 * `jupid-test/<label>-<random>/partners/`, waiting until the tables exist.
 */
export async function createAwsTestResources(label: string): Promise<AwsTestResources> {
  const { dynamodb, secrets } = emulatorClients();
  const run = `${label.replace(/[^a-z0-9-]/gi, "-").slice(0, 40)}-${randomUUID().slice(0, 8)}`;
  const env = { JUPID_SECRET_PREFIX: `jupid-test/${run}/partners/` } as AwsTestEnv;
  await Promise.all(
    TABLE_SPECS.map(async (spec) => {
      const tableName = `jt-${run}-${spec.suffix}`;
      const keys: KeySchemaElement[] = [{ AttributeName: spec.partitionKey, KeyType: "HASH" }];
      const attributes: AttributeDefinition[] = [{ AttributeName: spec.partitionKey, AttributeType: "S" }];
      if (spec.sortKey) {
        keys.push({ AttributeName: spec.sortKey, KeyType: "RANGE" });
        attributes.push({ AttributeName: spec.sortKey, AttributeType: "S" });
      }
      await dynamodb.send(
        new CreateTableCommand({
          TableName: tableName,
          KeySchema: keys,
          AttributeDefinitions: [
            ...attributes,
            ...(spec.index
              ? [spec.index.partitionKey, spec.index.sortKey].map((name) => ({ AttributeName: name, AttributeType: "S" as const }))
              : []),
          ],
          BillingMode: "PAY_PER_REQUEST",
          ...(spec.index
            ? {
                GlobalSecondaryIndexes: [
                  {
                    IndexName: spec.index.name,
                    KeySchema: [
                      { AttributeName: spec.index.partitionKey, KeyType: "HASH" as const },
                      { AttributeName: spec.index.sortKey, KeyType: "RANGE" as const },
                    ],
                    Projection: { ProjectionType: "ALL" as const },
                  },
                ],
              }
            : {}),
        }),
      );
      await waitUntilTableExists({ client: dynamodb, maxWaitTime: 60, minDelay: 1 }, { TableName: tableName });
      if (spec.ttlAttribute) {
        await dynamodb.send(
          new UpdateTimeToLiveCommand({
            TableName: tableName,
            TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
          }),
        );
      }
      env[spec.envName] = tableName;
    }),
  );

  const secretIds = new Set<string>();
  const secretId = (partnerId: string) => `${env.JUPID_SECRET_PREFIX}${partnerId}`;

  return {
    env,
    async putPartner(config) {
      await dynamodb.send(
        new PutItemCommand({
          TableName: env.JUPID_TABLE_PARTNERS,
          Item: { id: { S: config.id }, config: { S: JSON.stringify(config) }, updatedAt: { N: String(Date.now()) } },
        }),
      );
    },
    async createSecret(partnerId, secret) {
      const out = await secrets.send(new CreateSecretCommand({ Name: secretId(partnerId), SecretString: secret }));
      secretIds.add(secretId(partnerId));
      if (!out.VersionId) throw new Error("CreateSecret returned no VersionId");
      return out.VersionId;
    },
    async rotateSecret(partnerId, secret) {
      const out = await secrets.send(new PutSecretValueCommand({ SecretId: secretId(partnerId), SecretString: secret }));
      if (!out.VersionId) throw new Error("PutSecretValue returned no VersionId");
      return out.VersionId;
    },
    async endOverlap(partnerId) {
      const described = await secrets.send(new DescribeSecretCommand({ SecretId: secretId(partnerId) }));
      const previous = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes("AWSPREVIOUS"));
      if (!previous) return;
      await secrets.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId(partnerId),
          VersionStage: "AWSPREVIOUS",
          RemoveFromVersionId: previous[0],
        }),
      );
    },
    async putOidcClientSecret(partnerId, secret) {
      const name = oidcClientSecretName(env.JUPID_SECRET_PREFIX, partnerId);
      if (secretIds.has(name)) await secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: secret }));
      else await secrets.send(new CreateSecretCommand({ Name: name, SecretString: secret }));
      secretIds.add(name);
    },
    async dispose() {
      await Promise.allSettled([
        ...TABLE_SPECS.map((spec) => dynamodb.send(new DeleteTableCommand({ TableName: env[spec.envName] }))),
        ...[...secretIds].map((id) =>
          secrets.send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true })),
        ),
      ]);
    },
  };
}
