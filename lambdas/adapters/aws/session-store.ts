import { DeleteItemCommand, type DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { SHELL_MODES, type ShellMode } from "../../../config/schema.ts";
import type { Session, SessionStore } from "../../ports/index.ts";
import { bool, CorruptItemError, num, readBoolean, readNumber, readString, str } from "./attributes.ts";

/** The sessions table's index on `userId` (sort key `partnerId`), used by back-channel logout. */
export const SESSIONS_BY_USER_INDEX = "byUser";

/**
 * Sessions keyed by the SHA-256 of their id, with a TTL on `expiresAt`.
 * TTL deletion is lazy, so reads treat an item past `expiresAt` as absent.
 */
export class DynamoSessionStore implements SessionStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async put(session: Session): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          idHash: str(session.idHash),
          userId: str(session.userId),
          partnerId: str(session.partnerId),
          shell: str(session.shell),
          chat: bool(session.chat),
          createdAt: num(session.createdAt),
          expiresAt: num(session.expiresAt),
        },
      }),
    );
  }

  async get(idHash: string, now: number): Promise<Session | undefined> {
    // Strongly consistent: the session is read right after the sign-in that wrote it.
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { idHash: str(idHash) }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const table = this.tableName;
    const expiresAt = readNumber(Item, "expiresAt", table);
    if (expiresAt <= Math.floor(now / 1000)) return undefined;
    const shell = readString(Item, "shell", table);
    if (!(SHELL_MODES as readonly string[]).includes(shell)) {
      throw new CorruptItemError(`${table}: shell "${shell}" is not a shell mode`);
    }
    return {
      idHash: readString(Item, "idHash", table),
      userId: readString(Item, "userId", table),
      partnerId: readString(Item, "partnerId", table),
      shell: shell as ShellMode,
      chat: readBoolean(Item, "chat", table),
      createdAt: readNumber(Item, "createdAt", table),
      expiresAt,
    };
  }

  async delete(idHash: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { idHash: str(idHash) } }));
  }

  async deleteForUser(partnerId: string, userId: string): Promise<number> {
    // The index is eventually consistent: a session written a moment ago may be
    // missed. Back-channel logout arrives long after the sign-in that wrote it.
    let deleted = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: SESSIONS_BY_USER_INDEX,
          KeyConditionExpression: "userId = :user AND partnerId = :partner",
          ExpressionAttributeValues: { ":user": str(userId), ":partner": str(partnerId) },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        await this.delete(readString(item, "idHash", this.tableName));
        deleted++;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return deleted;
  }
}
