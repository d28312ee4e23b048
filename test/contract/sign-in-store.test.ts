/**
 * SignInStore contract: a sign-in's writes (jti claim, login mapping, session)
 * as one unit, in memory and on DynamoDB — plus, on DynamoDB, how many calls
 * it takes, counted by an SDK middleware (test/support/call-counter.ts).
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { DynamoDBClient, TransactionCanceledException, type TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DynamoIdentityStore,
  DynamoPartnerStore,
  DynamoReplayGuard,
  DynamoSessionStore,
  DynamoSignInStore,
  DynamoUsageStore,
  SecretsManagerPartnerSecrets,
} from "../../lambdas/adapters/aws/index.ts";
import { signIn } from "../../lambdas/core/sessions.ts";
import { settingsOf } from "../../lambdas/core/settings.ts";
import type { Dependencies, LoginProfile, SignInRecord } from "../../lambdas/ports/index.ts";
import { partnerInput, testEnvironment } from "../fixtures/partners.ts";
import { mintToken } from "../fixtures/tokens.ts";
import { type AwsTestResources, createAwsTestResources, randomPartnerSecret } from "../support/aws-tables.ts";
import { type CallCounter, countCalls } from "../support/call-counter.ts";
import { signInTables, uniquePartnerId, useWorld, WORLD_KINDS } from "./worlds.ts";

const idHash = () => createHash("sha256").update(randomBytes(32)).digest("hex");

function record(login: LoginProfile, nowMs: number, overrides: Partial<SignInRecord> = {}): SignInRecord {
  const nowSeconds = Math.floor(nowMs / 1000);
  return {
    // The replay window is real time (the worlds' clocks start at it), whatever `nowMs` the profile gets.
    replay: { jti: randomUUID(), expiresAt: Math.floor(Date.now() / 1000) + 330 },
    login,
    newUserId: `u-${randomUUID()}`,
    now: nowMs,
    session: {
      idHash: idHash(),
      partnerId: login.partnerId,
      shell: "embedded",
      chat: true,
      createdAt: nowSeconds,
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
      lastSeenAt: nowSeconds,
      epoch: 0,
    },
    ...overrides,
  };
}

describe.each(WORLD_KINDS)("SignInStore contract [%s]", (kind) => {
  const world = useWorld(kind, "sign-in");

  it("first sign-in: claims the jti, creates the user and mapping, stores the session", async () => {
    const { deps, clock } = world();
    const partnerId = uniquePartnerId();
    const input = record({ partnerId, sub: "s-1", email: "a@example.com", name: "A", payload: { plan: "pro" } }, clock.now);
    const outcome = await deps.signIns.recordSignIn(input);
    expect(outcome).toEqual({
      kind: "signed-in",
      user: { userId: input.newUserId, partnerId, sub: "s-1", email: "a@example.com" },
      created: true,
      session: { ...input.session, userId: input.newUserId },
    });
    expect(await deps.identities.getUser(input.newUserId)).toEqual({
      userId: input.newUserId,
      partnerId,
      sub: "s-1",
      email: "a@example.com",
      name: "A",
      payload: { plan: "pro" },
      createdAt: clock.now,
      lastLoginAt: clock.now,
    });
    expect(await deps.identities.findUserId(partnerId, "s-1")).toBe(input.newUserId);
    expect(await deps.sessions.get(input.session.idHash, clock.now)).toEqual({ ...input.session, userId: input.newUserId });
    // The jti is claimed in the replay guard's own records.
    expect(await deps.replay.claim(partnerId, input.replay.jti, input.replay.expiresAt)).toBe(false);
  });

  it("returning sign-in: same user, name/payload/lastLoginAt updated, first email kept, a new session", async () => {
    const { deps, clock } = world();
    const partnerId = uniquePartnerId();
    const first = record({ partnerId, sub: "s", email: "first@example.com", name: "Old", payload: { v: 1 } }, 1_000_000);
    await deps.signIns.recordSignIn(first);
    const second = record({ partnerId, sub: "s", email: "changed@example.com", name: "New", payload: { v: 2 } }, 2_000_000);
    const outcome = await deps.signIns.recordSignIn(second);
    // The outcome carries the first login's email (the workspace's first view shows it) without another read.
    expect(outcome).toMatchObject({
      kind: "signed-in",
      created: false,
      user: { userId: first.newUserId, partnerId, sub: "s", email: "first@example.com" },
    });
    expect(await deps.identities.getUser(first.newUserId)).toEqual({
      userId: first.newUserId,
      partnerId,
      sub: "s",
      email: "first@example.com",
      name: "New",
      payload: { v: 2 },
      createdAt: 1_000_000,
      lastLoginAt: 2_000_000,
    });
    expect(await deps.identities.getUser(second.newUserId)).toBeUndefined();
    expect(await deps.sessions.get(second.session.idHash, clock.now)).toEqual({ ...second.session, userId: first.newUserId });
    expect(await deps.sessions.get(first.session.idHash, clock.now)).toMatchObject({ userId: first.newUserId });
  });

  it("a returning sign-in without name or payload clears them (the token is the source of truth)", async () => {
    const { deps } = world();
    const partnerId = uniquePartnerId();
    const first = record({ partnerId, sub: "s", name: "N", payload: { k: "v" } }, 1000);
    await deps.signIns.recordSignIn(first);
    await deps.signIns.recordSignIn(record({ partnerId, sub: "s" }, 2000));
    const stored = await deps.identities.getUser(first.newUserId);
    expect(stored?.name).toBeUndefined();
    expect(stored?.payload).toBeUndefined();
    expect(stored?.lastLoginAt).toBe(2000);
  });

  it("a replayed jti writes nothing: no session, no user, no profile update", async () => {
    const { deps, clock } = world();
    const partnerId = uniquePartnerId();
    const first = record({ partnerId, sub: "s", name: "First" }, 1000);
    await deps.signIns.recordSignIn(first);

    // Same jti, returning user: the profile stays as it was.
    const again = record({ partnerId, sub: "s", name: "Replayed" }, 2000, { replay: first.replay });
    expect(await deps.signIns.recordSignIn(again)).toEqual({ kind: "replayed" });
    expect(await deps.identities.getUser(first.newUserId)).toMatchObject({ name: "First", lastLoginAt: 1000 });
    expect(await deps.sessions.get(again.session.idHash, clock.now)).toBeUndefined();

    // Same jti, a sub never seen: no user is created.
    const stranger = record({ partnerId, sub: "stranger" }, 2000, { replay: first.replay });
    expect(await deps.signIns.recordSignIn(stranger)).toEqual({ kind: "replayed" });
    expect(await deps.identities.findUserId(partnerId, "stranger")).toBeUndefined();
    expect(await deps.identities.getUser(stranger.newUserId)).toBeUndefined();
    expect(await deps.sessions.get(stranger.session.idHash, clock.now)).toBeUndefined();
  });

  it("refuses a jti already claimed through the replay guard, and accepts it again once its window has passed", async () => {
    const { deps, clock } = world();
    const partnerId = uniquePartnerId();
    const input = record({ partnerId, sub: "s" }, clock.now);
    expect(await deps.replay.claim(partnerId, input.replay.jti, clock.seconds + 10)).toBe(true);
    expect(await deps.signIns.recordSignIn(input)).toEqual({ kind: "replayed" });
    clock.setSeconds(clock.seconds + 11);
    expect(await deps.signIns.recordSignIn(input)).toMatchObject({ kind: "signed-in", created: true });
  });

  it("keeps jtis per partner: the same jti at two partners is two sign-ins", async () => {
    const { deps, clock } = world();
    const jti = randomUUID();
    const a = record({ partnerId: uniquePartnerId("a"), sub: "s" }, clock.now);
    const b = record({ partnerId: uniquePartnerId("b"), sub: "s" }, clock.now);
    expect(await deps.signIns.recordSignIn({ ...a, replay: { ...a.replay, jti } })).toMatchObject({ kind: "signed-in" });
    expect(await deps.signIns.recordSignIn({ ...b, replay: { ...b.replay, jti } })).toMatchObject({ kind: "signed-in" });
  });

  it("turns 50 concurrent first sign-ins of one (partner, sub) into one user, one mapping and 50 sessions of that user", async () => {
    const { clock } = world();
    const partnerId = uniquePartnerId("race");
    const inputs = Array.from({ length: 50 }, (_, i) => record({ partnerId, sub: "racer", email: `r${i}@example.com` }, clock.now + i));
    const outcomes = await world().race(50, (contenders) =>
      Promise.all(contenders.map(({ signIns }, i) => signIns.recordSignIn(inputs[i] as SignInRecord))),
    );
    const signedIn = outcomes.filter((o) => o.kind === "signed-in");
    expect(signedIn).toHaveLength(50);
    const creators = signedIn.filter((o) => o.created);
    expect(creators).toHaveLength(1);
    const userId = creators[0]?.user.userId as string;
    expect(new Set(signedIn.map((o) => o.user.userId))).toEqual(new Set([userId]));
    const winner = inputs.find((input) => input.newUserId === userId);
    expect((await world().deps.identities.getUser(userId))?.email).toBe(winner?.login.email);
    for (const input of inputs) {
      expect(await world().deps.sessions.get(input.session.idHash, clock.now)).toMatchObject({ userId });
    }
    const rows = await world().storedIdentityRows(partnerId);
    expect(rows.users).toBe(1);
    if (kind === "aws") expect(rows.mappings).toBe(1);
  });

  it("lets exactly one of 50 concurrent sign-ins with the same jti through, and only its session exists", async () => {
    const { clock } = world();
    const partnerId = uniquePartnerId("jti");
    const jti = randomUUID();
    // Different subs, so that nothing but the jti is contended.
    const inputs = Array.from({ length: 50 }, (_, i) => {
      const input = record({ partnerId, sub: `sub-${i}` }, clock.now);
      return { ...input, replay: { ...input.replay, jti } };
    });
    const outcomes = await world().race(50, (contenders) =>
      Promise.all(contenders.map(({ signIns }, i) => signIns.recordSignIn(inputs[i] as SignInRecord))),
    );
    expect(outcomes.filter((o) => o.kind === "signed-in")).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === "replayed")).toHaveLength(49);
    let sessions = 0;
    for (const input of inputs) if (await world().deps.sessions.get(input.session.idHash, clock.now)) sessions++;
    expect(sessions).toBe(1);
    expect((await world().storedIdentityRows(partnerId)).users).toBe(1);
  });
});

describe("DynamoDB and Secrets Manager calls per sign-in (counted by an SDK middleware)", () => {
  let resources: AwsTestResources;
  let dynamodb: DynamoDBClient;
  let secretsManager: SecretsManagerClient;
  let dynamoCalls: CallCounter;
  let secretCalls: CallCounter;

  beforeAll(async () => {
    resources = await createAwsTestResources("call-count");
    // Configured like the production clients (endpoint, region, credentials from the environment).
    dynamodb = new DynamoDBClient({});
    secretsManager = new SecretsManagerClient({});
    dynamoCalls = countCalls(dynamodb);
    secretCalls = countCalls(secretsManager);
  });
  afterAll(async () => {
    dynamodb?.destroy();
    secretsManager?.destroy();
    await resources?.dispose();
  });

  /** The production wiring (createAwsDependencies) on the counting clients, caches on as deployed. */
  function awsDeps(cacheSeconds: number): Dependencies {
    const { env } = resources;
    return {
      partners: new DynamoPartnerStore(dynamodb, env.JUPID_TABLE_PARTNERS, cacheSeconds),
      secrets: new SecretsManagerPartnerSecrets(secretsManager, {
        secretPrefix: env.JUPID_SECRET_PREFIX,
        keyRotationOverlapSeconds: 600,
        cacheSeconds,
      }),
      identities: new DynamoIdentityStore(dynamodb, env.JUPID_TABLE_IDENTITIES),
      replay: new DynamoReplayGuard(dynamodb, env.JUPID_TABLE_REPLAY),
      sessions: new DynamoSessionStore(dynamodb, env.JUPID_TABLE_SESSIONS),
      signIns: new DynamoSignInStore(dynamodb, signInTables(env)),
      usage: new DynamoUsageStore(dynamodb, env.JUPID_TABLE_USAGE),
      clock: Date.now,
    };
  }

  it("first and returning sign-in through the core: 2 sequential DynamoDB calls each, no Secrets Manager call once keys are cached", async () => {
    const partnerId = uniquePartnerId("count");
    const config = testEnvironment([partnerInput(partnerId, { allowedOrigins: ["https://partner.example"] })]);
    const partner = config.partners[0];
    if (!partner) throw new Error("no partner");
    const secret = randomPartnerSecret();
    await resources.createSecret(partnerId, secret);
    const deps = awsDeps(60);
    await deps.secrets.getKeys(partnerId); // a warm process: keys cached
    const settings = settingsOf(config);
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    const request = () => ({ partner, token: mintToken(partnerId, { secret }, nowSeconds()), origin: "https://partner.example" });

    for (const expected of [{ firstRun: true }, { firstRun: false }, { firstRun: false }]) {
      dynamoCalls.reset();
      secretCalls.reset();
      const result = await signIn(deps, settings, request());
      expect(result.firstRun).toBe(expected.firstRun);
      expect(dynamoCalls.commands()).toEqual(["GetItemCommand", "TransactWriteItemsCommand"]);
      expect(dynamoCalls.sequentialSteps()).toBe(2);
      expect(dynamoCalls.failed()).toEqual([]);
      expect(secretCalls.calls).toHaveLength(0);
    }

    // A replayed token: the same two calls, and the transaction (cancelled) wrote nothing.
    const token = mintToken(partnerId, { secret }, nowSeconds());
    await signIn(deps, settings, { ...request(), token });
    dynamoCalls.reset();
    await expect(signIn(deps, settings, { ...request(), token })).rejects.toMatchObject({ code: "TOKEN_REPLAYED" });
    expect(dynamoCalls.commands()).toEqual(["GetItemCommand", "TransactWriteItemsCommand"]);
  });

  it("a partner that never rotated: keys load in one round trip of 2 calls and none fails", async () => {
    const partnerId = uniquePartnerId("keys");
    const secret = randomPartnerSecret();
    const kid = await resources.createSecret(partnerId, secret);
    secretCalls.reset();
    expect(await awsDeps(60).secrets.getKeys(partnerId)).toEqual([{ kid, secret, stage: "current" }]);
    expect(secretCalls.failed()).toEqual([]);
    expect(secretCalls.calls).toHaveLength(2);
    expect(secretCalls.sequentialSteps()).toBe(1);
  });

  it("a rotated partner: current and previous key in 3 calls, none failing", async () => {
    const partnerId = uniquePartnerId("rotated");
    const oldKid = await resources.createSecret(partnerId, randomPartnerSecret());
    const newKid = await resources.rotateSecret(partnerId, randomPartnerSecret());
    secretCalls.reset();
    const keys = await awsDeps(60).secrets.getKeys(partnerId);
    expect(keys.map((key) => [key.stage, key.kid])).toEqual([
      ["current", newKid],
      ["previous", oldKid],
    ]);
    expect(secretCalls.failed()).toEqual([]);
    expect(secretCalls.calls).toHaveLength(3);
    expect(secretCalls.sequentialSteps()).toBe(2);
  });
});

describe("DynamoSignInStore on transaction outcomes the emulator never produces", () => {
  // MiniStack applies each request atomically, so it never cancels with TransactionConflict as DynamoDB does.
  const cancelled = (...codes: string[]) =>
    new TransactionCanceledException({ message: "Transaction cancelled", $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });
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
  const tables = { replay: "r", identities: "i", sessions: "s" };
  const input = () => record({ partnerId: "p1", sub: "s" }, Date.now());

  it("retries after a TransactionConflict and then signs in", async () => {
    const { client, seen } = scripted(
      () => ({}),
      () => {
        throw cancelled("None", "TransactionConflict", "None", "None");
      },
      () => ({}),
    );
    expect(await new DynamoSignInStore(client, tables).recordSignIn(input())).toMatchObject({ kind: "signed-in", created: true });
    expect(seen).toEqual(["GetItemCommand", "TransactWriteItemsCommand", "TransactWriteItemsCommand"]);
  });

  it("a lost first-login race reads the winner's mapping and signs in as a returning user, with the winner's id", async () => {
    const { client, seen } = scripted(
      () => ({}),
      () => {
        throw cancelled("None", "ConditionalCheckFailed", "None", "None");
      },
      () => ({ Item: { userId: { S: "u-winner" } } }),
      (command) => {
        const items = (command as TransactWriteItemsCommand).input.TransactItems ?? [];
        expect(items.map((item) => Object.keys(item)[0])).toEqual(["Put", "Update", "Put"]);
        expect(items[2]?.Put?.Item?.userId).toEqual({ S: "u-winner" });
        return {};
      },
    );
    const outcome = await new DynamoSignInStore(client, tables).recordSignIn(input());
    expect(outcome).toMatchObject({ kind: "signed-in", created: false, user: { userId: "u-winner" }, session: { userId: "u-winner" } });
    expect(seen).toEqual(["GetItemCommand", "TransactWriteItemsCommand", "GetItemCommand", "TransactWriteItemsCommand"]);
  });

  it("a claimed jti wins over every other cancellation reason: replayed, and nothing retried", async () => {
    const { client, seen } = scripted(
      () => ({ Item: { userId: { S: "u-1" } } }),
      () => {
        throw cancelled("ConditionalCheckFailed", "TransactionConflict", "None");
      },
    );
    expect(await new DynamoSignInStore(client, tables).recordSignIn(input())).toEqual({ kind: "replayed" });
    expect(seen).toEqual(["GetItemCommand", "TransactWriteItemsCommand"]);
  });

  it("refuses to go on when a mapping points at a user that does not exist (a corrupt record), and gives up after bounded conflicts", async () => {
    const corrupt = scripted(
      () => ({ Item: { userId: { S: "u-gone" } } }),
      () => {
        throw cancelled("None", "ConditionalCheckFailed", "None");
      },
    );
    await expect(new DynamoSignInStore(corrupt.client, tables).recordSignIn(input())).rejects.toThrow(/u-gone, which does not exist/);

    const conflicts = scripted(
      () => ({}),
      ...Array.from({ length: 8 }, () => () => {
        throw cancelled("None", "TransactionConflict", "None", "None");
      }),
    );
    await expect(new DynamoSignInStore(conflicts.client, tables).recordSignIn(input())).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE", message: expect.stringMatching(/did not settle/) });
    expect(conflicts.seen).toHaveLength(9);
  });
});
