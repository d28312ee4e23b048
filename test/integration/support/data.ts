/**
 * The deployed stack's data, read and changed directly in DynamoDB and
 * Secrets Manager (names from the stack outputs): partner keys read back for
 * minting tokens, rotation, and the rows the API should have written.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import {
  type AttributeValue,
  BatchGetItemCommand,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { mintToken } from "../../fixtures/tokens.ts";
import { aws, type StackOutputs } from "./deployment.ts";

export type Item = Record<string, AttributeValue>;

export class DeployedData {
  constructor(private readonly outputs: StackOutputs) {}

  secretName(partnerId: string): string {
    return `${this.outputs.SecretPrefix}${partnerId}`;
  }

  /** A partner's signing key as stored (AWSCURRENT unless asked otherwise). */
  async partnerKey(partnerId: string, stage: "AWSCURRENT" | "AWSPREVIOUS" = "AWSCURRENT"): Promise<{ value: string; versionId: string }> {
    const result = await aws().secrets.send(new GetSecretValueCommand({ SecretId: this.secretName(partnerId), VersionStage: stage }));
    if (result.SecretString === undefined || result.VersionId === undefined) {
      throw new Error(`secret ${this.secretName(partnerId)} (${stage}) has no string value`);
    }
    return { value: result.SecretString, versionId: result.VersionId };
  }

  /** Rotate as an operator does: PutSecretValue of a new random key (AWSCURRENT moves, AWSPREVIOUS keeps the old one). */
  async rotate(partnerId: string): Promise<{ value: string; versionId: string }> {
    const value = randomBytes(48).toString("base64url").replace(/[-_]/g, "x");
    const result = await aws().secrets.send(
      new PutSecretValueCommand({ SecretId: this.secretName(partnerId), SecretString: value, ClientRequestToken: randomUUID() }),
    );
    if (!result.VersionId) throw new Error(`PutSecretValue ${this.secretName(partnerId)} returned no VersionId`);
    return { value, versionId: result.VersionId };
  }

  /** End a rotation overlap early: take AWSPREVIOUS off its version. Returns that version id. */
  async endOverlap(partnerId: string): Promise<string> {
    const stages = await this.versionStages(partnerId);
    const previous = Object.entries(stages).find(([, names]) => names.includes("AWSPREVIOUS"))?.[0];
    if (!previous) throw new Error(`secret ${this.secretName(partnerId)} has no AWSPREVIOUS version: ${JSON.stringify(stages)}`);
    await aws().secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: this.secretName(partnerId),
        VersionStage: "AWSPREVIOUS",
        RemoveFromVersionId: previous,
      }),
    );
    return previous;
  }

  async versionStages(partnerId: string): Promise<Record<string, string[]>> {
    const result = await aws().secrets.send(new DescribeSecretCommand({ SecretId: this.secretName(partnerId) }));
    return result.VersionIdsToStages ?? {};
  }

  /** Whether the partner's secret exists (and is not scheduled for deletion). */
  async secretExists(partnerId: string): Promise<boolean> {
    try {
      const result = await aws().secrets.send(new DescribeSecretCommand({ SecretId: this.secretName(partnerId) }));
      return result.DeletedDate === undefined;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return false;
      throw error;
    }
  }

  /** Delete a partner secret at once (no recovery window): only for secrets this suite created. */
  async forceDeleteSecret(partnerId: string): Promise<void> {
    try {
      await aws().secrets.send(new DeleteSecretCommand({ SecretId: this.secretName(partnerId), ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  async partnerRecord(partnerId: string): Promise<Record<string, unknown> | undefined> {
    const item = await this.get(this.outputs.TablePartners, { id: { S: partnerId } });
    const json = item?.config?.S;
    return json === undefined ? undefined : (JSON.parse(json) as Record<string, unknown>);
  }

  /** The mapping row `MAP#<partnerId>` / sub. */
  async mapping(partnerId: string, sub: string): Promise<Item | undefined> {
    return this.get(this.outputs.TableIdentities, { pk: { S: `MAP#${partnerId}` }, sk: { S: sub } });
  }

  async user(userId: string): Promise<Item | undefined> {
    return this.get(this.outputs.TableIdentities, { pk: { S: `USER#${userId}` }, sk: { S: "PROFILE" } });
  }

  /** How many mapping rows exist for (partner, sub): a Query on the exact key, consistent. */
  async mappingCount(partnerId: string, sub: string): Promise<number> {
    const result = await aws().dynamodb.send(
      new QueryCommand({
        TableName: this.outputs.TableIdentities,
        KeyConditionExpression: "pk = :pk AND sk = :sk",
        ExpressionAttributeValues: { ":pk": { S: `MAP#${partnerId}` }, ":sk": { S: sub } },
        ConsistentRead: true,
        Select: "COUNT",
      }),
    );
    return result.Count ?? 0;
  }

  /** Every user profile row created for (partner, sub): a full consistent Scan, so an orphan cannot hide. */
  async usersFor(partnerId: string, sub: string): Promise<Item[]> {
    const found: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await aws().dynamodb.send(
        new ScanCommand({
          TableName: this.outputs.TableIdentities,
          FilterExpression: "begins_with(pk, :user) AND partnerId = :partner AND #sub = :sub",
          ExpressionAttributeNames: { "#sub": "sub" },
          ExpressionAttributeValues: { ":user": { S: "USER#" }, ":partner": { S: partnerId }, ":sub": { S: sub } },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      found.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return found;
  }

  async session(sessionId: string): Promise<Item | undefined> {
    return this.get(this.outputs.TableSessions, { idHash: { S: sessionIdHash(sessionId) } });
  }

  /** The session rows behind many cookies (BatchGetItem, 100 keys a call). */
  async sessions(sessionIds: readonly string[]): Promise<Item[]> {
    const rows: Item[] = [];
    for (let start = 0; start < sessionIds.length; start += 100) {
      let keys: Item[] = sessionIds.slice(start, start + 100).map((id) => ({ idHash: { S: sessionIdHash(id) } }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 10) throw new Error(`BatchGetItem ${this.outputs.TableSessions}: keys left unprocessed after ${attempt} attempts`);
        const result = await aws().dynamodb.send(
          new BatchGetItemCommand({ RequestItems: { [this.outputs.TableSessions]: { Keys: keys, ConsistentRead: true } } }),
        );
        rows.push(...(result.Responses?.[this.outputs.TableSessions] ?? []));
        keys = (result.UnprocessedKeys?.[this.outputs.TableSessions]?.Keys ?? []) as Item[];
      }
    }
    return rows;
  }

  async replayRow(partnerId: string, jti: string): Promise<Item | undefined> {
    return this.get(this.outputs.TableReplay, { key: { S: `${partnerId}#${jti}` } });
  }

  async usage(userId: string, metric: string): Promise<Item | undefined> {
    return this.get(this.outputs.TableUsage, { userId: { S: userId }, metric: { S: metric } });
  }

  private async get(table: string, key: Item): Promise<Item | undefined> {
    const { Item } = await aws().dynamodb.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
    return Item;
  }
}

/** How the sessions table keys a session (lambdas/core/sessions.ts hashSessionId). */
export function sessionIdHash(sessionId: string): string {
  return createHash("sha256").update(sessionId).digest("hex");
}

/** A token as the partner's server mints it, on the real clock (the deployed functions use it too). */
export function partnerToken(
  partnerId: string,
  secret: string,
  claims: { sub: string; jti?: string; [claim: string]: unknown },
): { token: string; jti: string } {
  const jti = claims.jti ?? randomUUID();
  const now = Math.floor(Date.now() / 1000);
  return { token: mintToken(partnerId, { secret, claims: { ...claims, jti } }, now), jti };
}

/** A unique `sub` per test and run, so reruns against a shared endpoint never collide. */
export function uniqueSub(label: string): string {
  return `it-${label}-${randomUUID()}`;
}
