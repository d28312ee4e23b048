/**
 * Issue 12: faults survived, nothing lost. The gateway's AWS adapters on the
 * emulator, with an AWS SDK middleware that throttles or fails chosen calls
 * (inside our fault classification, outside nothing: the injected error is
 * what the SDK would hand over after its retries), an unreachable endpoint and
 * a timeout. Every such answer is 503 SERVICE_UNAVAILABLE with Retry-After,
 * never an AWS message or a token, and leaves no half-written state.
 */
import { dpopKey } from "../fixtures/dpop.ts";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:net";
import { type AttributeValue, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { InitializeMiddleware } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEnvironmentConfig } from "../../config/schema.ts";
import { classifyFaults, REQUEST_TIMEOUTS } from "../../lambdas/adapters/aws/faults.ts";
import {
  DynamoIdentityStore,
  DynamoPartnerStore,
  DynamoReplayGuard,
  DynamoSessionStore,
  DynamoSignInStore,
  DynamoUsageStore,
  SecretsManagerPartnerSecrets,
} from "../../lambdas/adapters/aws/index.ts";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { type GatewayRequest, type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import type { Dependencies } from "../../lambdas/ports/index.ts";
import { type AwsTestResources, createAwsTestResources, emulatorClients, randomPartnerSecret } from "../support/aws-tables.ts";
import { emulatorEndpoint } from "../support/ministack.ts";
import { partnerInput } from "../fixtures/partners.ts";
import { mintToken } from "../fixtures/tokens.ts";
import { partnerConfig, uniquePartnerId } from "./worlds.ts";

const ORIGIN = "http://localhost:3000";
const partnerId = uniquePartnerId("faults");
let resources: AwsTestResources;
let secret = "";
const logs: string[] = [];
const tokens: string[] = [];

/** Which call fails: `(commandName, table or secret id) => error to throw, or undefined`. */
type FaultPlan = (command: string, target: string) => Error | undefined;
let plan: FaultPlan = () => undefined;

function awsError(name: string, status: number, message = `injected ${name}: secret-looking detail arn:aws:dynamodb:zz`): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, $fault: status >= 500 ? "server" : "client" });
}

function injector<I extends object, O extends object>(): InitializeMiddleware<I, O> {
  return (next, context) => async (args) => {
    const input = args.input as { TableName?: string; SecretId?: string; TransactItems?: unknown[] };
    const error = plan(context.commandName ?? "", input.TableName ?? input.SecretId ?? (input.TransactItems ? "transaction" : ""));
    if (error) throw error;
    return next(args);
  };
}

/** Clients like lambdas/adapters/aws/clients.ts builds them, plus the injector inside the classification. */
function faultyClients(overrides: { endpoint?: string; requestTimeout?: number; maxAttempts?: number } = {}) {
  const config = {
    endpoint: overrides.endpoint ?? emulatorEndpoint(),
    requestHandler: { ...REQUEST_TIMEOUTS, ...(overrides.requestTimeout ? { requestTimeout: overrides.requestTimeout } : {}) },
    ...(overrides.maxAttempts ? { maxAttempts: overrides.maxAttempts } : {}),
  };
  const dynamodb = new DynamoDBClient(config);
  const secrets = new SecretsManagerClient(config);
  dynamodb.middlewareStack.use(classifyFaults());
  dynamodb.middlewareStack.add(injector(), { step: "initialize", priority: "low", name: "testInjectFaults" });
  secrets.middlewareStack.use(classifyFaults());
  secrets.middlewareStack.add(injector(), { step: "initialize", priority: "low", name: "testInjectFaults" });
  return { dynamodb, secrets };
}

function dependencies(clients: ReturnType<typeof faultyClients>): Dependencies {
  const env = resources.env;
  return {
    partners: new DynamoPartnerStore(clients.dynamodb, env.JUPID_TABLE_PARTNERS, 0),
    secrets: new SecretsManagerPartnerSecrets(clients.secrets, { secretPrefix: env.JUPID_SECRET_PREFIX, keyRotationOverlapSeconds: 600, cacheSeconds: 0 }),
    identities: new DynamoIdentityStore(clients.dynamodb, env.JUPID_TABLE_IDENTITIES),
    replay: new DynamoReplayGuard(clients.dynamodb, env.JUPID_TABLE_REPLAY),
    sessions: new DynamoSessionStore(clients.dynamodb, env.JUPID_TABLE_SESSIONS),
    usage: new DynamoUsageStore(clients.dynamodb, env.JUPID_TABLE_USAGE),
    signIns: new DynamoSignInStore(clients.dynamodb, {
      replay: env.JUPID_TABLE_REPLAY,
      identities: env.JUPID_TABLE_IDENTITIES,
      sessions: env.JUPID_TABLE_SESSIONS,
    }),
    clock: Date.now,
  };
}

const config = () => parseEnvironmentConfig({ environment: "local", appUrl: "http://127.0.0.1:4000", partners: [partnerInput(partnerId, { allowedOrigins: [ORIGIN] })] }, "faults test");

async function gatewayOn(clients: ReturnType<typeof faultyClients>): Promise<RunningGateway> {
  return startGateway({ config: config(), secrets: {}, port: 0, deps: dependencies(clients) });
}

const frameKey = dpopKey();
const proofs = new Map<string, Promise<string>>();

/** A frame sign-in as the bootstrap posts it (a sign-in proof is not single-use: one per gateway serves). */
async function signInRequest(sub: string, gateway: RunningGateway): Promise<GatewayRequest> {
  const token = mintToken(partnerId, { secret, claims: { sub } }, Math.floor(Date.now() / 1000));
  tokens.push(token);
  const url = `${gateway.url}/embed/${partnerId}/session`;
  if (!proofs.has(url)) proofs.set(url, frameKey.then((key) => key.proof("POST", url)));
  return {
    method: "POST",
    target: `/embed/${partnerId}/session`,
    headers: { "content-type": "application/json", dpop: await (proofs.get(url) as Promise<string>) },
    body: Buffer.from(JSON.stringify({ token, parentOrigin: ORIGIN })),
  };
}

async function scanAll(table: string): Promise<Record<string, AttributeValue>[]> {
  const { dynamodb } = emulatorClients();
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** Users, mappings and sessions of the partner; orphans and duplicates counted the way a data audit would. */
async function audit() {
  const identities = await scanAll(resources.env.JUPID_TABLE_IDENTITIES);
  const mappings = identities.filter((item) => item.pk?.S === `MAP#${partnerId}`);
  const users = identities.filter((item) => item.pk?.S?.startsWith("USER#") && item.partnerId?.S === partnerId);
  const userIds = new Set(users.map((user) => user.pk?.S?.slice("USER#".length)));
  const mappedIds = new Set(mappings.map((mapping) => mapping.userId?.S));
  const subsOfUsers = users.map((user) => user.sub?.S);
  const sessions = (await scanAll(resources.env.JUPID_TABLE_SESSIONS)).filter((item) => item.partnerId?.S === partnerId);
  return {
    users: users.length,
    mappings: mappings.length,
    mappingsWithoutUser: mappings.filter((mapping) => !userIds.has(mapping.userId?.S)).length,
    usersWithoutMapping: users.filter((user) => !mappedIds.has(user.pk?.S?.slice("USER#".length))).length,
    duplicateUsers: subsOfUsers.length - new Set(subsOfUsers).size,
    sessions: sessions.length,
    sessionsWithoutUser: sessions.filter((session) => !userIds.has(session.userId?.S)).length,
  };
}

function expectUnavailable(answer: Awaited<ReturnType<RunningGateway["handle"]>>) {
  expect(answer.statusCode).toBe(503);
  expect(answer.headers?.["Retry-After"]).toBe("1");
  const body = JSON.parse(answer.body);
  expect(body.error.code).toBe("SERVICE_UNAVAILABLE");
  expect(answer.body).not.toMatch(/injected|arn:aws|secret-looking|ECONN|Timeout/);
}

beforeAll(async () => {
  emulatorEndpoint();
  setLogSink((line) => logs.push(line));
  resources = await createAwsTestResources("faults");
  await resources.putPartner(partnerConfig(partnerId, { allowedOrigins: [ORIGIN] }));
  secret = randomPartnerSecret();
  await resources.createSecret(partnerId, secret);
});

afterAll(async () => {
  await resources?.dispose();
  // No token, no AWS message in any log line, whatever failed above.
  const text = logs.join("\n");
  for (const token of tokens) expect(text).not.toContain(token.split(".")[2]);
  expect(text).not.toMatch(/injected|secret-looking|arn:aws/);
  expect(text).not.toContain(secret);
});

describe("one failing call per step of a sign-in", () => {
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await gatewayOn(faultyClients());
  });
  afterAll(() => gateway?.close());

  it.each([
    ["partner record read throttled", "GetItemCommand", "partners", awsError("ThrottlingException", 400)],
    ["Secrets Manager failing", "GetSecretValueCommand", "", awsError("InternalServiceError", 500)],
    // A sign-in writes in one transaction after one mapping read (ADR 0011): those are its DynamoDB steps.
    ["mapping read throttled", "GetItemCommand", "identities", awsError("ProvisionedThroughputExceededException", 400)],
    ["sign-in transaction throttled", "TransactWriteItemsCommand", "transaction", awsError("ThrottlingException", 400)],
    ["sign-in transaction failing", "TransactWriteItemsCommand", "transaction", awsError("InternalServerError", 500)],
    ["connection reset", "TransactWriteItemsCommand", "transaction", Object.assign(new Error("socket hang up"), { name: "Error", code: "ECONNRESET" })],
  ])("%s: 503 with Retry-After, nothing half-written, and the next sign-in works", async (_name, command, target, error) => {
    const sub = `step-${randomUUID()}`;
    const before = await audit();
    let injected = 0;
    plan = (name, on) => {
      if (name === command && on.includes(target) && injected === 0) {
        injected++;
        return error;
      }
      return undefined;
    };
    try {
      expectUnavailable(await gateway.handle(await signInRequest(sub, gateway)));
    } finally {
      plan = () => undefined;
    }
    expect(injected).toBe(1);
    const after = await audit();
    expect(after.sessions, "no session for a failed sign-in").toBe(before.sessions);
    expect(after.mappingsWithoutUser + after.usersWithoutMapping + after.duplicateUsers).toBe(0);
    // Recovery is one fresh token (the failed one may have been used up).
    expect((await gateway.handle(await signInRequest(sub, gateway))).statusCode).toBe(200);
  });
});

describe("unreachable and slow AWS", () => {
  let silent: Server;
  let silentPort = 0;
  beforeAll(async () => {
    // Accepts connections and never answers: every call times out.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(() => {
    silent.close();
  });

  it("an endpoint that refuses connections: 503 SERVICE_UNAVAILABLE", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const gateway = await gatewayOn(faultyClients({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 2 }));
    try {
      expectUnavailable(await gateway.handle(await signInRequest(`down-${randomUUID()}`, gateway)));
    } finally {
      await gateway.close();
    }
  });

  it("an endpoint that never answers: 503 after the request timeout, not a hang", async () => {
    const gateway = await gatewayOn(faultyClients({ endpoint: `http://127.0.0.1:${silentPort}`, requestTimeout: 300, maxAttempts: 2 }));
    try {
      expectUnavailable(await gateway.handle(await signInRequest(`slow-${randomUUID()}`, gateway)));
    } finally {
      await gateway.close();
    }
  });
});

describe("under load", () => {
  it("200 concurrent sign-ins with 10% injected faults: every answer 200 or 503, no orphan, no duplicate, no session for a failure", async () => {
    const gateway = await gatewayOn(faultyClients());
    // A seeded generator, so a failing run can be reproduced.
    let seed = 12;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const kinds = ["ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError", "ServiceUnavailable"];
    let injected = 0;
    let calls = 0;
    plan = (name) => {
      if (name === "ScanCommand") return undefined;
      calls++;
      if (random() >= 0.1) return undefined;
      injected++;
      const kind = kinds[injected % kinds.length] as string;
      return awsError(kind, kind.startsWith("Provisioned") || kind.startsWith("Throttling") ? 400 : 500);
    };
    const before = await audit();
    const logsBefore = logs.length;
    const started = performance.now();
    // 100 users, each signing in twice at once: first logins race each other too.
    const subs = Array.from({ length: 100 }, (_, i) => `load-${i}-${randomUUID().slice(0, 8)}`);
    let answers: Awaited<ReturnType<RunningGateway["handle"]>>[];
    try {
      answers = await Promise.all([...subs, ...subs].map(async (sub) => gateway.handle(await signInRequest(sub, gateway))));
    } finally {
      plan = () => undefined;
      await gateway.close();
    }
    const wallMs = Math.round(performance.now() - started);
    const causes = new Map<string, number>();
    for (const line of logs.slice(logsBefore)) {
      const record = JSON.parse(line) as { message?: string; error?: string };
      if (record.message === "dependency unavailable") causes.set(record.error ?? "?", (causes.get(record.error ?? "?") ?? 0) + 1);
      if (record.message === "unhandled error") causes.set(`unhandled ${record.error ?? "?"}`, (causes.get(`unhandled ${record.error ?? "?"}`) ?? 0) + 1);
    }
    const statuses = new Map<number, number>();
    for (const answer of answers) statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
    const ok = statuses.get(200) ?? 0;
    const unavailable = statuses.get(503) ?? 0;
    const after = await audit();
    const figures = {
      requests: answers.length,
      ok,
      unavailable,
      awsCalls: calls,
      injectedFaults: injected,
      users: after.users - before.users,
      mappings: after.mappings - before.mappings,
      sessions: after.sessions - before.sessions,
      orphans: after.mappingsWithoutUser + after.usersWithoutMapping + after.sessionsWithoutUser,
      duplicates: after.duplicateUsers,
      wallMs,
      statuses: [...statuses].map(([status, n]) => `${status}:${n}`).join(","),
      causes: [...causes].map(([name, n]) => `${name}:${n}`).join(","),
    };
    console.log(`[figures] faults-under-load: ${Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(" ")}`);

    expect(ok + unavailable).toBe(200);
    expect(injected).toBeGreaterThan(0);
    expect(unavailable).toBeGreaterThan(0);
    for (const answer of answers.filter((a) => a.statusCode === 503)) expectUnavailable(answer);
    expect(figures.orphans).toBe(0);
    expect(figures.duplicates).toBe(0);
    expect(figures.users).toBe(figures.mappings);
    expect(figures.users).toBeLessThanOrEqual(100);
    expect(figures.sessions, "one session per 200, none for a 503").toBe(ok);
  });
});
