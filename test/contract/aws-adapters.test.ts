/**
 * What only the AWS adapters have: environment wiring, per-process caches,
 * the stored item layout the CDK stack and operators rely on, and failing
 * closed when AWS itself fails. The port behaviour is in the shared suites.
 */
import { randomUUID } from "node:crypto";
import {
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dynamoDbClient, secretsManagerClient } from "../../lambdas/adapters/aws/clients.ts";
import {
  AWS_ADAPTER_ENV,
  createAwsDependencies,
  DynamoIdentityStore,
  DynamoPartnerStore,
  DynamoReplayGuard,
  DynamoSessionStore,
  MissingEnvError,
  SecretsManagerPartnerSecrets,
} from "../../lambdas/adapters/aws/index.ts";
import { syncPartners } from "../../lambdas/handlers/partner-sync.ts";
import { type AwsTestResources, createAwsTestResources, emulatorClients, randomPartnerSecret } from "../support/aws-tables.ts";
import { ManualClock, partnerConfig, uniquePartnerId } from "./worlds.ts";

let resources: AwsTestResources;
beforeAll(async () => {
  resources = await createAwsTestResources("aws-adapters");
});
afterAll(async () => {
  await resources?.dispose();
});

const settings = { cacheSeconds: 0, keyRotationOverlapSeconds: 600 };

describe("createAwsDependencies", () => {
  it.each(AWS_ADAPTER_ENV)("refuses to start without %s and names it", (name) => {
    const env: Record<string, string | undefined> = { ...resources.env, [name]: undefined };
    expect(() => createAwsDependencies(settings, env)).toThrow(MissingEnvError);
    expect(() => createAwsDependencies(settings, env)).toThrow(name);
    expect(() => createAwsDependencies(settings, { ...resources.env, [name]: "  " })).toThrow(name);
  });

  it("wires every port to the tables and secrets named by the environment", async () => {
    const deps = createAwsDependencies(settings, { ...resources.env });
    const partnerId = uniquePartnerId();
    await resources.putPartner(partnerConfig(partnerId));
    const secret = randomPartnerSecret();
    const kid = await resources.createSecret(partnerId, secret);
    expect((await deps.partners.get(partnerId))?.id).toBe(partnerId);
    expect(await deps.secrets.getKeys(partnerId)).toEqual([{ kid, secret, stage: "current" }]);
    const { user, created } = await deps.identities.recordLogin({ partnerId, sub: "s" }, `u-${randomUUID()}`, deps.clock());
    expect(created).toBe(true);
    expect(await deps.identities.findUserId(partnerId, "s")).toBe(user.userId);
    expect(await deps.replay.claim(partnerId, "j", Math.floor(deps.clock() / 1000) + 60)).toBe(true);
    expect(await deps.usage.add(user.userId, "m", 2)).toBe(2);
    expect(Math.abs(deps.clock() - Date.now())).toBeLessThan(1000);
  });
});

describe("caching", () => {
  it("serves a partner record from cache for cacheSeconds, then re-reads it", async () => {
    const clock = new ManualClock();
    const store = new DynamoPartnerStore(dynamoDbClient(), resources.env.JUPID_TABLE_PARTNERS, 300, clock.read);
    const id = uniquePartnerId();
    const unknown = uniquePartnerId();
    await resources.putPartner(partnerConfig(id, { displayName: "Before" }));
    expect((await store.get(id))?.displayName).toBe("Before");
    expect(await store.get(unknown)).toBeUndefined();

    await resources.putPartner(partnerConfig(id, { displayName: "After" }));
    await resources.putPartner(partnerConfig(unknown));
    clock.setSeconds(clock.seconds + 299);
    expect((await store.get(id))?.displayName).toBe("Before");
    expect(await store.get(unknown)).toBeUndefined();

    clock.setSeconds(clock.seconds + 2);
    expect((await store.get(id))?.displayName).toBe("After");
    expect((await store.get(unknown))?.id).toBe(unknown);
  });

  it("serves partner keys from cache for cacheSeconds, so a rotation shows up after at most that long", async () => {
    const clock = new ManualClock();
    const secrets = new SecretsManagerPartnerSecrets(secretsManagerClient(), {
      secretPrefix: resources.env.JUPID_SECRET_PREFIX,
      keyRotationOverlapSeconds: 600,
      cacheSeconds: 120,
      clock: clock.read,
    });
    const partnerId = uniquePartnerId();
    const first = randomPartnerSecret();
    await resources.createSecret(partnerId, first);
    const cached = await secrets.getKeys(partnerId);
    expect(cached.map((k) => k.secret)).toEqual([first]);

    const second = randomPartnerSecret();
    await resources.rotateSecret(partnerId, second);
    clock.setSeconds(clock.seconds + 119);
    expect(await secrets.getKeys(partnerId)).toBe(cached);

    clock.setSeconds(clock.seconds + 2);
    expect((await secrets.getKeys(partnerId)).map((k) => [k.stage, k.secret])).toEqual([
      ["current", second],
      ["previous", first],
    ]);
  });

  it("shares one load between concurrent callers", async () => {
    const secrets = new SecretsManagerPartnerSecrets(secretsManagerClient(), {
      secretPrefix: resources.env.JUPID_SECRET_PREFIX,
      keyRotationOverlapSeconds: 600,
      cacheSeconds: 60,
    });
    const partnerId = uniquePartnerId();
    await resources.createSecret(partnerId, randomPartnerSecret());
    const results = await Promise.all(Array.from({ length: 20 }, () => secrets.getKeys(partnerId)));
    for (const keys of results) expect(keys).toBe(results[0]);
  });
});

describe("stored records", () => {
  it("rejects a partner record whose config is invalid, naming the partner and field, and does not cache the failure", async () => {
    const clock = new ManualClock();
    const store = new DynamoPartnerStore(dynamoDbClient(), resources.env.JUPID_TABLE_PARTNERS, 300, clock.read);
    const id = uniquePartnerId();
    const broken = { ...partnerConfig(id), allowedOrigins: ["https://ok.example/path"] };
    await emulatorClients().dynamodb.send(
      new PutItemCommand({
        TableName: resources.env.JUPID_TABLE_PARTNERS,
        Item: { id: { S: id }, config: { S: JSON.stringify(broken) }, updatedAt: { N: "0" } },
      }),
    );
    await expect(store.get(id)).rejects.toThrow(new RegExp(`${id}.*allowedOrigins`));

    await emulatorClients().dynamodb.send(
      new PutItemCommand({
        TableName: resources.env.JUPID_TABLE_PARTNERS,
        Item: { id: { S: id }, config: { S: "{not json" }, updatedAt: { N: "0" } },
      }),
    );
    await expect(store.get(id)).rejects.toThrow(/not valid JSON/);

    await resources.putPartner(partnerConfig(id));
    expect((await store.get(id))?.id).toBe(id);
  });

  it("writes identities, replay, session and usage items in the documented layout", async () => {
    const deps = createAwsDependencies(settings, { ...resources.env });
    const raw = emulatorClients().dynamodb;
    const get = async (table: string, key: Record<string, string>) =>
      (
        await raw.send(
          new GetItemCommand({
            TableName: table,
            Key: Object.fromEntries(Object.entries(key).map(([k, v]) => [k, { S: v }])),
            ConsistentRead: true,
          }),
        )
      ).Item;

    const partnerId = uniquePartnerId();
    const userId = `u-${randomUUID()}`;
    await deps.identities.recordLogin(
      { partnerId, sub: "Sub One", email: "e@example.com", name: "N", payload: { a: 1 } },
      userId,
      1234,
    );
    expect(await get(resources.env.JUPID_TABLE_IDENTITIES, { pk: `MAP#${partnerId}`, sk: "Sub One" })).toEqual({
      pk: { S: `MAP#${partnerId}` },
      sk: { S: "Sub One" },
      userId: { S: userId },
      email: { S: "e@example.com" },
    });
    expect(await get(resources.env.JUPID_TABLE_IDENTITIES, { pk: `USER#${userId}`, sk: "PROFILE" })).toEqual({
      pk: { S: `USER#${userId}` },
      sk: { S: "PROFILE" },
      partnerId: { S: partnerId },
      sub: { S: "Sub One" },
      email: { S: "e@example.com" },
      name: { S: "N" },
      payload: { S: '{"a":1}' },
      createdAt: { N: "1234" },
      lastLoginAt: { N: "1234" },
    });

    await deps.replay.claim(partnerId, "jti-1", 1_900_000_000);
    expect(await get(resources.env.JUPID_TABLE_REPLAY, { key: `${partnerId}#jti-1` })).toEqual({
      key: { S: `${partnerId}#jti-1` },
      expiresAt: { N: "1900000000" },
    });

    const idHash = "ab".repeat(32);
    await deps.sessions.put({ idHash, userId, partnerId, shell: "full", chat: false, createdAt: 1, expiresAt: 1_900_000_000, lastSeenAt: 5, jkt: "k", epoch: 3 });
    expect(await get(resources.env.JUPID_TABLE_SESSIONS, { idHash })).toMatchObject({
      idHash: { S: idHash },
      userId: { S: userId },
      partnerId: { S: partnerId },
      expiresAt: { N: "1900000000" },
      lastSeenAt: { N: "5" },
      jkt: { S: "k" },
    });

    await deps.usage.add(userId, "reports", 3);
    expect(await get(resources.env.JUPID_TABLE_USAGE, { userId, metric: "reports" })).toEqual({
      userId: { S: userId },
      metric: { S: "reports" },
      used: { N: "3" },
    });

    for (const table of [resources.env.JUPID_TABLE_REPLAY, resources.env.JUPID_TABLE_SESSIONS]) {
      const ttl = await raw.send(new DescribeTimeToLiveCommand({ TableName: table }));
      expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: "ENABLED", AttributeName: "expiresAt" });
    }
  });
});

describe("session epochs in the partners table (issue 12: revocation)", () => {
  it("a deploy (partner-sync) keeps the epoch of an enabled partner and bumps it when the partner is disabled or removed", async () => {
    const store = new DynamoPartnerStore(dynamoDbClient(), resources.env.JUPID_TABLE_PARTNERS, 0);
    const [live, off, removed] = [uniquePartnerId("live"), uniquePartnerId("off"), uniquePartnerId("removed")];
    for (const id of [live, off, removed]) await resources.putPartner(partnerConfig(id));
    await store.revokeSessions(live);
    await store.revokeSessions(live);
    // syncPartners scans the whole table: every other test's record is "removed" too; fine, this table is this file's own.
    await syncPartners(dynamoDbClient(), resources.env.JUPID_TABLE_PARTNERS, [partnerConfig(live), partnerConfig(off, { enabled: false })], Date.now());
    expect(await store.get(live)).toMatchObject({ enabled: true, sessionEpoch: 2 });
    expect(await store.get(off)).toMatchObject({ enabled: false, sessionEpoch: 1 });
    expect(await store.get(removed)).toMatchObject({ enabled: false, sessionEpoch: 1 });
    // Enabling it again does not bring its old sessions back.
    await syncPartners(dynamoDbClient(), resources.env.JUPID_TABLE_PARTNERS, [partnerConfig(live), partnerConfig(off)], Date.now());
    expect(await store.get(off)).toMatchObject({ enabled: true, sessionEpoch: 1 });
  });
});

describe("failing closed", () => {
  const missing = `jt-missing-${randomUUID().slice(0, 8)}`;

  it("propagates AWS errors instead of answering 'absent' or 'first use'", async () => {
    await expect(new DynamoReplayGuard(dynamoDbClient(), missing).claim("p1", "j", 1)).rejects.toThrow();
    await expect(new DynamoPartnerStore(dynamoDbClient(), missing, 0).get("p1")).rejects.toThrow();
    await expect(new DynamoSessionStore(dynamoDbClient(), missing).get("ab".repeat(32), Date.now())).rejects.toThrow();
  });

  it("answers no keys for an id that cannot be a partner, without building a secret name from it", async () => {
    const secrets = new SecretsManagerPartnerSecrets(secretsManagerClient(), {
      secretPrefix: resources.env.JUPID_SECRET_PREFIX,
      keyRotationOverlapSeconds: 600,
      cacheSeconds: 0,
    });
    const partnerId = uniquePartnerId();
    await resources.createSecret(partnerId, randomPartnerSecret());
    expect(await secrets.getKeys(`${partnerId}/../${partnerId}`)).toEqual([]);
    expect(await secrets.getKeys(partnerId.toUpperCase())).toEqual([]);
  });
});

describe("DynamoDB transaction outcomes the emulator never produces", () => {
  // MiniStack applies each request atomically, so it never cancels a transaction with
  // TransactionConflict as DynamoDB does when two transactions touch one item at once.
  const cancelled = (...codes: string[]) =>
    new TransactionCanceledException({
      message: "Transaction cancelled",
      $metadata: {},
      CancellationReasons: codes.map((Code) => ({ Code })),
    });
  const scripted = (...steps: Array<(command: unknown) => unknown>) => {
    const seen: string[] = [];
    const client = {
      async send(command: unknown) {
        seen.push((command as object).constructor.name);
        const step = steps.shift();
        if (!step) throw new Error("unexpected call");
        return step(command);
      },
    } as unknown as DynamoDBClient;
    return { client, seen };
  };
  const userAttributes = {
    pk: { S: "USER#u-1" },
    sk: { S: "PROFILE" },
    partnerId: { S: "p1" },
    sub: { S: "s" },
    createdAt: { N: "1" },
    lastLoginAt: { N: "2" },
  };

  it("retries a login whose transaction was cancelled for a conflict", async () => {
    const { client, seen } = scripted(
      () => {
        throw cancelled("TransactionConflict", "None");
      },
      (command) => {
        expect(command).toBeInstanceOf(TransactWriteItemsCommand);
        return {};
      },
    );
    const result = await new DynamoIdentityStore(client, "t").recordLogin({ partnerId: "p1", sub: "s" }, "u-1", 2);
    expect(result.created).toBe(true);
    expect(seen).toEqual(["TransactWriteItemsCommand", "TransactWriteItemsCommand"]);
  });

  it("updates the existing user when the mapping condition failed", async () => {
    const { client, seen } = scripted(
      () => {
        throw cancelled("ConditionalCheckFailed", "None");
      },
      () => ({ Item: { userId: { S: "u-1" } } }),
      (command) => {
        expect(command).toBeInstanceOf(UpdateItemCommand);
        return { Attributes: userAttributes };
      },
    );
    const result = await new DynamoIdentityStore(client, "t").recordLogin({ partnerId: "p1", sub: "s" }, "u-new", 2);
    expect(result).toEqual({
      created: false,
      user: { userId: "u-1", partnerId: "p1", sub: "s", createdAt: 1, lastLoginAt: 2 },
    });
    expect(seen).toEqual(["TransactWriteItemsCommand", "GetItemCommand", "UpdateItemCommand"]);
  });

  it("fails instead of overwriting when the generated user id already exists", async () => {
    const { client } = scripted(() => {
      throw cancelled("None", "ConditionalCheckFailed");
    });
    await expect(new DynamoIdentityStore(client, "t").recordLogin({ partnerId: "p1", sub: "s" }, "u-1", 2)).rejects.toThrow(
      /already exists/,
    );
  });

  it("gives up after a bounded number of conflicts", async () => {
    const { client, seen } = scripted(
      ...Array.from({ length: 8 }, () => () => {
        throw cancelled("TransactionConflict", "TransactionConflict");
      }),
    );
    await expect(new DynamoIdentityStore(client, "t").recordLogin({ partnerId: "p1", sub: "s" }, "u-1", 2)).rejects.toThrow(
      /did not settle/,
    );
    expect(seen).toHaveLength(8);
  });
});
