import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type AttributeValue, ScanCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PartnerConfig, partnerSchema } from "../../config/schema.ts";
import { createPartnerSyncHandler, putResponse, syncPartners } from "../../lambdas/handlers/partner-sync.ts";
import { type LogSink, setLogSink } from "../../lambdas/http/logger.ts";
import { PARTNER_RECORDS_RESOURCE_TYPE } from "../../lib/constructs/partner-records.ts";
import { partnerInput } from "../fixtures/partners.ts";
import { configOf, logicalId, SYNTH_TIMEOUT, type Synthesized, synthEnvironment } from "./support.ts";

type Item = Record<string, AttributeValue>;

/** An in-memory partners table that answers the two commands partner-sync sends. */
function fakeTable(initial: Item[] = [], pageSize = 2) {
  const items = new Map<string, Item>(initial.map((item) => [item.id?.S as string, item]));
  const sent: string[] = [];
  const client = {
    async send(command: unknown): Promise<unknown> {
      if (command instanceof UpdateItemCommand) {
        // Interprets the one update partner-sync sends: SET config, updatedAt [ADD sessionEpoch 1].
        const id = command.input.Key?.id?.S as string;
        const values = command.input.ExpressionAttributeValues ?? {};
        const previous = items.get(id) ?? { id: { S: id } };
        const next: Item = { ...previous, config: values[":config"] as AttributeValue, updatedAt: values[":now"] as AttributeValue };
        if (command.input.UpdateExpression?.includes("ADD #epoch :one")) {
          next.sessionEpoch = { N: String(Number(previous.sessionEpoch?.N ?? 0) + 1) };
        }
        sent.push(`update ${id}`);
        items.set(id, next);
        return {};
      }
      if (command instanceof ScanCommand) {
        const keys = [...items.keys()].sort();
        const start = command.input.ExclusiveStartKey ? keys.indexOf(command.input.ExclusiveStartKey.id?.S as string) + 1 : 0;
        const page = keys.slice(start, start + pageSize);
        sent.push(`scan ${start}`);
        const last = page.at(-1);
        return {
          Items: page.map((key) => items.get(key)),
          ...(start + pageSize < keys.length && last ? { LastEvaluatedKey: { id: { S: last } } } : {}),
        };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  };
  return { client, items, sent };
}

const partner = (id: string, overrides: Parameters<typeof partnerInput>[1] = {}): PartnerConfig =>
  partnerSchema.parse(partnerInput(id, overrides));
const stored = (config: PartnerConfig): Item => ({ id: { S: config.id }, config: { S: JSON.stringify(config) }, updatedAt: { N: "1" } });
const configIn = (item: Item | undefined): PartnerConfig => JSON.parse(item?.config?.S ?? "null") as PartnerConfig;

function event(
  type: "Create" | "Update" | "Delete",
  partners: readonly PartnerConfig[] | string,
): CloudFormationCustomResourceEvent {
  const json = typeof partners === "string" ? partners : JSON.stringify(partners);
  return {
    RequestType: type,
    ServiceToken: "arn:aws:lambda:us-east-1:123456789012:function:sync",
    ResponseURL: "https://cloudformation-custom-resource-response.example/put",
    StackId: "arn:aws:cloudformation:us-east-1:123456789012:stack/JupidEmbed-staging/x",
    RequestId: "req-1",
    LogicalResourceId: "PartnerRecords",
    ResourceType: PARTNER_RECORDS_RESOURCE_TYPE,
    ResourceProperties: {
      ServiceToken: "arn:aws:lambda:us-east-1:123456789012:function:sync",
      TableName: "partners-table",
      Partners: json,
      PartnersHash: "h",
    },
    ...(type === "Create" ? {} : { PhysicalResourceId: "partner-records:partners-table" }),
    ...(type === "Update" ? { OldResourceProperties: {} } : {}),
  } as CloudFormationCustomResourceEvent;
}

function handlerWith(table: ReturnType<typeof fakeTable>) {
  const responses: CloudFormationCustomResourceResponse[] = [];
  const handler = createPartnerSyncHandler({
    client: table.client,
    clock: () => 1_700_000_000_000,
    respond: async (url, response) => {
      expect(url).toBe("https://cloudformation-custom-resource-response.example/put");
      responses.push(response);
    },
  });
  return { handler, responses };
}

describe("partner records: the custom resource in the template", () => {
  let staging: Synthesized;
  beforeAll(() => {
    staging = synthEnvironment("staging");
  }, SYNTH_TIMEOUT);

  it("is a plain custom resource served by our own function, carrying the config's partners and their hash", () => {
    const resources = staging.template.findResources(PARTNER_RECORDS_RESOURCE_TYPE);
    expect(Object.keys(resources)).toHaveLength(1);
    const props = Object.values(resources)[0]?.Properties as Record<string, unknown>;
    expect(props.ServiceToken).toEqual({ "Fn::GetAtt": [logicalId(staging.stack.partnerRecords.handler.function), "Arn"] });
    expect(props.TableName).toEqual({ Ref: logicalId(staging.stack.data.tables.partners) });
    expect(JSON.parse(props.Partners as string)).toEqual(configOf("staging").partners);
    expect(props.PartnersHash).toBe(createHash("sha256").update(props.Partners as string).digest("hex"));
    expect(props.ServiceTimeout).toBe("300");
    // No provider framework: no extra framework functions, no AwsCustomResource.
    staging.template.resourceCountIs("Custom::AWS", 0);
  });

  it("the API functions are created after the records are written", () => {
    const functions = staging.template.findResources("AWS::Lambda::Function");
    const records = logicalId(staging.stack.partnerRecords.resource);
    for (const fn of Object.values(staging.stack.functions.functions)) {
      expect(functions[logicalId(fn.function)]?.DependsOn).toContain(records);
    }
  });
});

describe("partner records: lambdas/handlers/partner-sync.ts", () => {
  const logs: string[] = [];
  let restore: LogSink | undefined;
  beforeAll(() => {
    restore = setLogSink((line) => logs.push(line));
  });
  afterAll(() => {
    if (restore) setLogSink(restore);
  });

  it("Create writes every configured partner as {id, config JSON, updatedAt} and answers SUCCESS", async () => {
    const table = fakeTable();
    const { handler, responses } = handlerWith(table);
    const partners = [partner("alpha"), partner("beta", { enabled: false })];
    await handler(event("Create", partners));
    expect(configIn(table.items.get("alpha"))).toEqual(partners[0]);
    expect(configIn(table.items.get("beta"))).toEqual(partners[1]);
    expect(table.items.get("alpha")?.updatedAt).toEqual({ N: "1700000000000" });
    expect(responses).toEqual([
      expect.objectContaining({
        Status: "SUCCESS",
        PhysicalResourceId: "partner-records:partners-table",
        RequestId: "req-1",
        LogicalResourceId: "PartnerRecords",
        Data: { Written: 2, Disabled: "", Hash: "h" },
      }),
    ]);
  });

  it("Update disables records of partners no longer in config, across scan pages, and keeps the physical id", async () => {
    const gone = partner("gone");
    const alreadyOff = partner("already-off", { enabled: false });
    const table = fakeTable([
      stored(gone),
      stored(alreadyOff),
      { id: { S: "corrupt" }, config: { S: "{not json" }, updatedAt: { N: "1" } },
      stored(partner("keep")),
    ]);
    const { handler, responses } = handlerWith(table);
    const keep = partner("keep", { displayName: "Keep v2" });
    await handler(event("Update", [keep]));
    expect(configIn(table.items.get("gone"))).toEqual({ ...gone, enabled: false });
    expect(table.items.get("already-off")?.updatedAt, "an already disabled record is left alone").toEqual({ N: "1" });
    expect(table.items.get("corrupt")?.config).toEqual({ S: "{not json" });
    expect(configIn(table.items.get("keep")).displayName).toBe("Keep v2");
    expect(table.sent.filter((entry) => entry.startsWith("scan")).length).toBeGreaterThan(1);
    expect(responses[0]).toMatchObject({
      Status: "SUCCESS",
      PhysicalResourceId: "partner-records:partners-table",
      Data: { Written: 1, Disabled: "gone" },
    });
  });

  it("keeps each record's session epoch, and bumps it when a partner is written disabled (issue 12: revocation)", async () => {
    const table = fakeTable([
      { ...stored(partner("live")), sessionEpoch: { N: "4" } },
      { ...stored(partner("turned-off")), sessionEpoch: { N: "2" } },
      stored(partner("removed")),
    ]);
    await syncPartners(table.client, "partners-table", [partner("live"), partner("turned-off", { enabled: false })], 5);
    expect(table.items.get("live")?.sessionEpoch).toEqual({ N: "4" });
    expect(table.items.get("turned-off")?.sessionEpoch).toEqual({ N: "3" });
    expect(table.items.get("removed")?.sessionEpoch).toEqual({ N: "1" });
    expect(configIn(table.items.get("removed")).enabled).toBe(false);
  });

  it("a partner re-added to config is enabled again", async () => {
    const table = fakeTable([stored(partner("back", { enabled: false }))]);
    await syncPartners(table.client, "partners-table", [partner("back")], 5);
    expect(configIn(table.items.get("back")).enabled).toBe(true);
  });

  it("Delete changes nothing and answers SUCCESS", async () => {
    const table = fakeTable([stored(partner("alpha"))]);
    const { handler, responses } = handlerWith(table);
    await handler(event("Delete", [partner("alpha")]));
    expect(table.sent).toEqual([]);
    expect(responses[0]).toMatchObject({ Status: "SUCCESS", PhysicalResourceId: "partner-records:partners-table" });
  });

  it("invalid partner JSON fails the deploy with a reason and writes nothing", async () => {
    const table = fakeTable();
    const { handler, responses } = handlerWith(table);
    await handler(event("Create", JSON.stringify([{ id: "Bad Id" }])));
    expect(table.sent).toEqual([]);
    expect(responses[0]?.Status).toBe("FAILED");
    expect(responses[0]?.Reason).toMatch(/Partners\[0\] is not a valid partner config/);
  });

  it("a DynamoDB failure fails the deploy instead of leaving CloudFormation waiting", async () => {
    const { handler, responses } = handlerWith({
      client: {
        send: async () => {
          throw Object.assign(new Error("User is not authorized"), { name: "AccessDeniedException" });
        },
      },
    } as never);
    await handler(event("Update", [partner("alpha")]));
    expect(responses[0]).toMatchObject({ Status: "FAILED", Reason: "AccessDeniedException: User is not authorized" });
    expect(logs.at(-1)).toContain('"message":"partner-sync failed"');
  });

  it("putResponse PUTs the JSON response to the pre-signed URL without a content type", async () => {
    const received: Array<{ method?: string; type?: string; body: string }> = [];
    const server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += String(chunk);
      });
      request.on("end", () => {
        received.push({ method: request.method, type: request.headers["content-type"], body });
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response: CloudFormationCustomResourceResponse = {
        Status: "SUCCESS",
        PhysicalResourceId: "p",
        StackId: "s",
        RequestId: "r",
        LogicalResourceId: "l",
        Data: {},
      };
      await putResponse(`http://127.0.0.1:${port}/signed?X-Amz-Signature=x`, response);
      expect(received).toHaveLength(1);
      expect(received[0]?.method).toBe("PUT");
      expect(received[0]?.type ?? "").toBe("");
      expect(JSON.parse(received[0]?.body ?? "")).toEqual(response);
    } finally {
      server.close();
    }
  });
});
