/**
 * The two worlds every contract suite runs in: the in-memory adapters and the
 * AWS adapters on the emulator. A suite is written once against the ports and
 * executed in both (`describe.each(WORLD_KINDS)`), so the local gateway and
 * the deployed stack cannot drift apart.
 *
 * Seeding (partners, secrets) differs per world and lives here; assertions go
 * through the port interfaces only, plus a storage-level row count used to
 * prove that races leave no orphan rows behind.
 */
import { randomUUID } from "node:crypto";
import { type AttributeValue, DynamoDBClient, GetItemCommand, QueryCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { type PartnerConfig, type PartnerConfigInput, partnerSchema } from "../../config/schema.ts";
import { dynamoDbClient, secretsManagerClient } from "../../lambdas/adapters/aws/clients.ts";
import {
  DynamoIdentityStore,
  DynamoPartnerStore,
  DynamoReplayGuard,
  DynamoSessionStore,
  DynamoSignInStore,
  DynamoUsageStore,
  SecretsManagerPartnerSecrets,
} from "../../lambdas/adapters/aws/index.ts";
import { createMemoryDependencies, type MemoryDependencies } from "../../lambdas/adapters/memory/index.ts";
import type { Dependencies } from "../../lambdas/ports/index.ts";
import { type AwsTestResources, createAwsTestResources, emulatorClients } from "../support/aws-tables.ts";
import { emulatorEndpoint, emulatorLogTail } from "../support/ministack.ts";

export const WORLD_KINDS = ["memory", "aws"] as const;
export type WorldKind = (typeof WORLD_KINDS)[number];

/** Overlap used by every world, so `notAfter` can be checked the same way everywhere. */
export const KEY_ROTATION_OVERLAP_SECONDS = 3600;

/** A clock tests move by hand; starts at the real time so emulator-side TTL sweeps agree with it. */
export class ManualClock {
  now = Date.now();
  readonly read = (): number => this.now;
  get seconds(): number {
    return Math.floor(this.now / 1000);
  }
  setSeconds(seconds: number): void {
    this.now = seconds * 1000;
  }
}

/** The ports that must stay correct under concurrent writers. */
export type Contender = Pick<Dependencies, "identities" | "replay" | "usage" | "signIns">;

export interface ContractWorld {
  readonly kind: WorldKind;
  /** Fresh per test; `clock` drives the adapters that read time themselves (replay guard). */
  readonly deps: Dependencies;
  readonly clock: ManualClock;
  putPartner(config: PartnerConfig): Promise<void>;
  /** Create the partner's only key; returns its kid. */
  createSecret(partnerId: string, secret: string): Promise<string>;
  /** Rotate to `secret` (old current becomes previous until now + overlap); returns the new kid. */
  rotateSecret(partnerId: string, secret: string): Promise<string>;
  /** Drop the previous key (end a rotation overlap early). */
  endOverlap(partnerId: string): Promise<void>;
  /** Store the partner's OIDC client secret. */
  putOidcClientSecret(partnerId: string, secret: string): Promise<void>;
  /**
   * Stored user rows for `partnerId` (AWS: USER# items in the table; memory:
   * every user of this test's fresh world) and mapping rows (AWS only).
   */
  storedIdentityRows(partnerId: string): Promise<{ users: number; mappings?: number }>;
  /**
   * Run `race` with `n` contenders over the same data, as `n` Lambda
   * instances would see it. AWS: each contender has its own client with an
   * already-open connection, so the race's requests reach the emulator
   * together instead of queueing behind one warm socket.
   */
  race<T>(n: number, race: (contenders: Contender[]) => Promise<T>): Promise<T>;
}

/** A unique id usable as a partner id, so tests sharing tables never see each other's rows. */
export function uniquePartnerId(label = "p"): string {
  return `${label}-${randomUUID().slice(0, 12)}`;
}

/** A complete partner config (schema defaults applied), overridable per test. */
export function partnerConfig(id: string, overrides: Partial<PartnerConfigInput> = {}): PartnerConfig {
  return partnerSchema.parse({
    id,
    displayName: `Partner ${id}`,
    allowedOrigins: ["https://partner.example"],
    branding: { displayName: `Partner ${id}`, primaryColor: "#0f766e" },
    shell: { mode: "embedded", chat: true },
    freeLimit: { metric: "transactions", threshold: 10 },
    ...overrides,
  });
}

/**
 * Register the hooks that give each test a fresh world of `kind` and return
 * its accessor. AWS tables are created once per suite (per file and kind).
 */
export function useWorld(kind: WorldKind, label: string): () => ContractWorld {
  let current: ContractWorld | undefined;
  let resources: AwsTestResources | undefined;

  if (kind === "aws") {
    beforeAll(async () => {
      emulatorEndpoint(); // fail loudly, before any client call, if the emulator setup did not run
      resources = await createAwsTestResources(label);
    });
    afterAll(async () => {
      await resources?.dispose();
    });
    afterEach((context) => {
      // An emulator-side error (500, unsupported operation) is often only visible in its log.
      if (context.task.result?.state === "fail") console.error(emulatorLogTail(30));
    });
  }

  beforeEach(() => {
    const clock = new ManualClock();
    current = kind === "memory" ? memoryWorld(clock) : awsWorld(clock, required(resources));
  });

  return () => required(current);
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("world used outside a test");
  return value;
}

function memoryWorld(clock: ManualClock): ContractWorld {
  const deps: MemoryDependencies = createMemoryDependencies({ partners: [] }, clock.read);
  return {
    kind: "memory",
    deps,
    clock,
    async putPartner(config) {
      deps.partners.set(config);
    },
    async createSecret(partnerId, secret) {
      const kid = randomUUID();
      deps.secrets.setCurrent(partnerId, secret, kid);
      return kid;
    },
    async rotateSecret(partnerId, secret) {
      const kid = randomUUID();
      deps.secrets.rotate(partnerId, secret, kid, Math.floor(Date.now() / 1000) + KEY_ROTATION_OVERLAP_SECONDS);
      return kid;
    },
    async endOverlap(partnerId) {
      const current = (await deps.secrets.getKeys(partnerId)).find((key) => key.stage === "current");
      if (current) deps.secrets.setCurrent(partnerId, current.secret, current.kid);
    },
    async putOidcClientSecret(partnerId, secret) {
      deps.secrets.setOidcClientSecret(partnerId, secret);
    },
    async storedIdentityRows() {
      return { users: deps.identities.userCount };
    },
    async race(n, race) {
      return race(Array.from({ length: n }, () => deps));
    },
  };
}

/** The tables a {@link DynamoSignInStore} writes, from the test resources' environment. */
export function signInTables(env: AwsTestResources["env"]) {
  return { replay: env.JUPID_TABLE_REPLAY, identities: env.JUPID_TABLE_IDENTITIES, sessions: env.JUPID_TABLE_SESSIONS };
}

function awsWorld(clock: ManualClock, resources: AwsTestResources): ContractWorld {
  const { env } = resources;
  // The production clients (module scope, endpoint from AWS_ENDPOINT_URL) and no caching,
  // so every change a test makes is visible at once; caching has its own tests.
  const deps: Dependencies = {
    partners: new DynamoPartnerStore(dynamoDbClient(), env.JUPID_TABLE_PARTNERS, 0, clock.read),
    secrets: new SecretsManagerPartnerSecrets(secretsManagerClient(), {
      secretPrefix: env.JUPID_SECRET_PREFIX,
      keyRotationOverlapSeconds: KEY_ROTATION_OVERLAP_SECONDS,
      cacheSeconds: 0,
      clock: clock.read,
    }),
    identities: new DynamoIdentityStore(dynamoDbClient(), env.JUPID_TABLE_IDENTITIES),
    replay: new DynamoReplayGuard(dynamoDbClient(), env.JUPID_TABLE_REPLAY, clock.read),
    sessions: new DynamoSessionStore(dynamoDbClient(), env.JUPID_TABLE_SESSIONS),
    signIns: new DynamoSignInStore(dynamoDbClient(), signInTables(env), clock.read),
    usage: new DynamoUsageStore(dynamoDbClient(), env.JUPID_TABLE_USAGE),
    clock: clock.read,
  };
  return {
    kind: "aws",
    deps,
    clock,
    putPartner: (config) => resources.putPartner(config),
    createSecret: (partnerId, secret) => resources.createSecret(partnerId, secret),
    rotateSecret: (partnerId, secret) => resources.rotateSecret(partnerId, secret),
    endOverlap: (partnerId) => resources.endOverlap(partnerId),
    putOidcClientSecret: (partnerId, secret) => resources.putOidcClientSecret(partnerId, secret),
    async storedIdentityRows(partnerId) {
      const { dynamodb } = emulatorClients();
      let users = 0;
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await dynamodb.send(
          new ScanCommand({
            TableName: env.JUPID_TABLE_IDENTITIES,
            FilterExpression: "begins_with(pk, :user) AND partnerId = :partner",
            ExpressionAttributeValues: { ":user": { S: "USER#" }, ":partner": { S: partnerId } },
            ExclusiveStartKey: startKey,
            ConsistentRead: true,
          }),
        );
        users += page.Count ?? 0;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      const mappings = await dynamodb.send(
        new QueryCommand({
          TableName: env.JUPID_TABLE_IDENTITIES,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": { S: `MAP#${partnerId}` } },
          ConsistentRead: true,
          Select: "COUNT",
        }),
      );
      return { users, mappings: mappings.Count ?? 0 };
    },
    async race(n, race) {
      // Configured like the production client (endpoint and credentials from the environment).
      const clients = Array.from({ length: n }, () => new DynamoDBClient({}));
      try {
        await Promise.all(
          clients.map((client) =>
            client.send(
              new GetItemCommand({ TableName: env.JUPID_TABLE_IDENTITIES, Key: { pk: { S: "warm-up" }, sk: { S: "-" } } }),
            ),
          ),
        );
        return await race(
          clients.map((client) => ({
            identities: new DynamoIdentityStore(client, env.JUPID_TABLE_IDENTITIES),
            replay: new DynamoReplayGuard(client, env.JUPID_TABLE_REPLAY, clock.read),
            usage: new DynamoUsageStore(client, env.JUPID_TABLE_USAGE),
            signIns: new DynamoSignInStore(client, signInTables(env), clock.read),
          })),
        );
      } finally {
        for (const client of clients) client.destroy();
      }
    },
  };
}
