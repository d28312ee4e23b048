/**
 * CloudFormation custom resource (lib/constructs/partner-records.ts): writes
 * the partners of config/partners.<env>.json into the partners table at
 * deploy, so the gateway reads partners from DynamoDB and a partner change is
 * a config change plus a deploy.
 *
 * - Create / Update: every partner in config is written as
 *   `{id, config: JSON, updatedAt}`; a record whose partner is no longer in
 *   config is kept but marked `enabled: false` (its users, mappings and
 *   secret stay; re-adding the partner re-enables it). Writes are updates,
 *   so the record's `sessionEpoch` survives a deploy; writing a partner
 *   disabled bumps it, which ends all of its sessions for good (they stay
 *   ended when the partner is enabled again).
 * - Delete: nothing. It runs when the stack is deleted (the table is retained
 *   in production and destroyed elsewhere) and the records must live exactly
 *   as long as the table.
 *
 * The function answers CloudFormation itself with a PUT to the pre-signed
 * ResponseURL (no provider framework), which also works in emulators.
 */
import { type AttributeValue, type DynamoDBClient, ScanCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from "aws-lambda";
import { type PartnerConfig, partnerSchema } from "../../config/schema.ts";
import { dynamoDbClient } from "../adapters/aws/clients.ts";
import { SESSION_EPOCH_ATTRIBUTE } from "../adapters/aws/partner-store.ts";
import { log } from "../http/logger.ts";

/** The custom resource's properties (CloudFormation passes every value as a string). */
export interface PartnerSyncProperties {
  readonly TableName: string;
  /** JSON array of validated partner configs. */
  readonly Partners: string;
  /** SHA-256 of `Partners`; makes any config change an Update. */
  readonly PartnersHash: string;
}

export interface SyncResult {
  readonly written: readonly string[];
  readonly disabled: readonly string[];
  /** Records not in config whose stored config could not be parsed; left untouched. */
  readonly skipped: readonly string[];
}

/** Parse and validate the `Partners` property with the config schema. */
export function parsePartners(json: string): PartnerConfig[] {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value)) throw new Error("Partners must be a JSON array");
  return value.map((item, index) => {
    const parsed = partnerSchema.safeParse(item);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(partner)"}: ${issue.message}`);
      throw new Error(`Partners[${index}] is not a valid partner config (${fields.join("; ")})`);
    }
    return parsed.data;
  });
}

/** Write one record, keeping its session epoch, and bumping it when the partner is written disabled. */
function writeRecord(tableName: string, partner: PartnerConfig, now: number): UpdateItemCommand {
  return new UpdateItemCommand({
    TableName: tableName,
    Key: { id: { S: partner.id } },
    UpdateExpression: `SET #config = :config, #updatedAt = :now${partner.enabled ? "" : " ADD #epoch :one"}`,
    ExpressionAttributeNames: { "#config": "config", "#updatedAt": "updatedAt", ...(partner.enabled ? {} : { "#epoch": SESSION_EPOCH_ATTRIBUTE }) },
    ExpressionAttributeValues: {
      ":config": { S: JSON.stringify(partner) },
      ":now": { N: String(now) },
      ...(partner.enabled ? {} : { ":one": { N: "1" } }),
    },
  });
}

/** Write `partners` and disable records of partners that are no longer configured. */
export async function syncPartners(
  client: Pick<DynamoDBClient, "send">,
  tableName: string,
  partners: readonly PartnerConfig[],
  now: number,
): Promise<SyncResult> {
  const configured = new Set(partners.map((partner) => partner.id));
  for (const partner of partners) {
    await client.send(writeRecord(tableName, partner, now));
  }

  const disabled: string[] = [];
  const skipped: string[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        ProjectionExpression: "#id, #config",
        ExpressionAttributeNames: { "#id": "id", "#config": "config" },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    for (const item of page.Items ?? []) {
      const id = item.id?.S;
      if (id === undefined || configured.has(id)) continue;
      const stored = parseStored(item.config?.S);
      if (!stored || stored.id !== id) {
        skipped.push(id);
        continue;
      }
      if (!stored.enabled) continue;
      await client.send(writeRecord(tableName, { ...stored, enabled: false }, now));
      disabled.push(id);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);

  return { written: [...configured], disabled, skipped };
}

function parseStored(json: string | undefined): PartnerConfig | undefined {
  if (json === undefined) return undefined;
  try {
    const parsed = partnerSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export type Responder = (url: string, response: CloudFormationCustomResourceResponse) => Promise<void>;

/** PUT the response to CloudFormation's pre-signed URL (S3 in AWS, the emulator's endpoint locally). */
export const putResponse: Responder = async (url, response) => {
  const body = JSON.stringify(response);
  // The pre-signed S3 URL is signed without a content type; send none.
  const result = await fetch(url, { method: "PUT", body, headers: { "content-type": "" } });
  if (!result.ok) throw new Error(`CloudFormation response PUT failed with HTTP ${result.status}`);
};

export interface PartnerSyncDeps {
  readonly client: Pick<DynamoDBClient, "send">;
  readonly clock: () => number;
  readonly respond: Responder;
}

export function createPartnerSyncHandler(deps: PartnerSyncDeps) {
  return async (event: CloudFormationCustomResourceEvent): Promise<void> => {
    const props = event.ResourceProperties as unknown as PartnerSyncProperties;
    const physicalResourceId =
      event.RequestType === "Create" ? `partner-records:${props.TableName}` : event.PhysicalResourceId;
    const base = {
      PhysicalResourceId: physicalResourceId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
    };
    let response: CloudFormationCustomResourceResponse;
    try {
      if (event.RequestType === "Delete") {
        log("info", "partner-sync delete: records are kept with their table", { table: props.TableName });
        response = { ...base, Status: "SUCCESS", Data: {} };
      } else {
        const partners = parsePartners(props.Partners);
        const result = await syncPartners(deps.client, props.TableName, partners, deps.clock());
        log("info", "partner-sync done", {
          request: event.RequestType,
          table: props.TableName,
          written: result.written.join(","),
          disabled: result.disabled.join(","),
          skipped: result.skipped.join(","),
        });
        response = {
          ...base,
          Status: "SUCCESS",
          Data: { Written: result.written.length, Disabled: result.disabled.join(","), Hash: props.PartnersHash },
        };
      }
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      log("error", "partner-sync failed", { request: event.RequestType, table: props.TableName, reason });
      // CloudFormation caps the response at 4 KB.
      response = { ...base, Status: "FAILED", Reason: reason.slice(0, 1000), Data: {} };
    }
    await deps.respond(event.ResponseURL, response);
  };
}

export const handler = createPartnerSyncHandler({ client: dynamoDbClient(), clock: Date.now, respond: putResponse });
