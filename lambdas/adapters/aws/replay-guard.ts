import { ConditionalCheckFailedException, type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import type { ReplayGuard } from "../../ports/index.ts";
import { num, str } from "./attributes.ts";

/**
 * The conditional put that claims `(partnerId, jti)` until `expiresAt`: it
 * succeeds when the jti was never claimed or its window has passed (TTL
 * deletes lazily, up to days later).
 */
export function replayClaimPut(tableName: string, partnerId: string, jti: string, expiresAt: number, nowSeconds: number) {
  return {
    TableName: tableName,
    // Partner ids never contain "#", so the key is unambiguous whatever the jti holds.
    Item: { key: str(`${partnerId}#${jti}`), expiresAt: num(expiresAt) },
    ConditionExpression: "attribute_not_exists(#key) OR #expiresAt < :now",
    ExpressionAttributeNames: { "#key": "key", "#expiresAt": "expiresAt" },
    ExpressionAttributeValues: { ":now": num(nowSeconds) },
  };
}

/**
 * Single use of `(partnerId, jti)`: one conditional PutItem per claim, so of
 * any number of concurrent claims exactly one succeeds. TTL deletes items
 * after `expiresAt`, but lazily (up to days later), so an item whose window
 * has passed counts as absent in the condition as well.
 */
export class DynamoReplayGuard implements ReplayGuard {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async claim(partnerId: string, jti: string, expiresAt: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand(replayClaimPut(this.tableName, partnerId, jti, expiresAt, Math.floor(this.clock() / 1000))),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
