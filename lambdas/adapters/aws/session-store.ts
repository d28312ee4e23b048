import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { SHELL_MODES } from "../../../config/schema.ts";
import type { Session, SessionStore } from "../../ports/index.ts";
import { CorruptItemError, type Item, num, readNumber, readString, str } from "./attributes.ts";

type KindOf<T> = T extends string ? "S" : T extends number ? "N" : T extends boolean ? "BOOL" : never;
/** `"S"` for a required string, `"S?"` for an optional one; likewise `N` (number) and `BOOL`. */
type AttributeSpec<T> = undefined extends T ? `${KindOf<Exclude<T, undefined>>}?` : KindOf<T>;

/**
 * The session item, field by field: every {@link Session} field is stored
 * under its own name with this DynamoDB type. The one description of the
 * record format — {@link sessionItem} writes it and {@link readSessionItem}
 * reads it, for the session store and for the sign-in transaction alike — and
 * a Session field missing here (or with the wrong type) is a compile error.
 */
export const SESSION_ATTRIBUTES: { readonly [K in keyof Required<Session>]: AttributeSpec<Session[K]> } = {
  idHash: "S",
  userId: "S",
  partnerId: "S",
  shell: "S",
  chat: "BOOL",
  createdAt: "N",
  expiresAt: "N",
  lastSeenAt: "N",
  jkt: "S?",
  epoch: "N",
};

const SESSION_FIELDS = Object.entries(SESSION_ATTRIBUTES) as ReadonlyArray<[keyof Session, string]>;

/** The DynamoDB item of `session` (absent optional fields are not written). */
export function sessionItem(session: Session): Item {
  const item: Item = {};
  for (const [name, spec] of SESSION_FIELDS) {
    const value = session[name];
    if (value === undefined) continue;
    const kind = spec.replace("?", "");
    item[name] = kind === "S" ? { S: String(value) } : kind === "N" ? { N: String(value) } : { BOOL: value === true };
  }
  return item;
}

/** The session in a stored item; a missing required attribute or a wrong type is a {@link CorruptItemError}. */
export function readSessionItem(stored: Item, table: string): Session {
  // Sessions written before these fields existed: last seen at creation, epoch 0.
  const item: Item = {
    ...stored,
    ...(stored.lastSeenAt === undefined && stored.createdAt ? { lastSeenAt: stored.createdAt } : {}),
    ...(stored.epoch === undefined ? { epoch: { N: "0" } } : {}),
  };
  const session: Record<string, unknown> = {};
  for (const [name, spec] of SESSION_FIELDS) {
    const optional = spec.endsWith("?");
    const kind = spec.replace("?", "") as "S" | "N" | "BOOL";
    const attribute: AttributeValue | undefined = item[name];
    if (attribute === undefined) {
      if (optional) continue;
      throw new CorruptItemError(`${table}: attribute "${name}" is missing`);
    }
    if (kind === "N") session[name] = readNumber(item, name, table);
    else if (kind === "S" && attribute.S !== undefined) session[name] = attribute.S;
    else if (kind === "BOOL" && attribute.BOOL !== undefined) session[name] = attribute.BOOL;
    else throw new CorruptItemError(`${table}: attribute "${name}" is not of type ${kind}`);
  }
  if (!(SHELL_MODES as readonly unknown[]).includes(session.shell)) {
    throw new CorruptItemError(`${table}: shell "${String(session.shell)}" is not a shell mode`);
  }
  return session as unknown as Session;
}

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
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: sessionItem(session) }));
  }

  async get(idHash: string, now: number): Promise<Session | undefined> {
    // Strongly consistent: the session is read right after the sign-in that wrote it.
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { idHash: str(idHash) }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const session = readSessionItem(Item, this.tableName);
    return session.expiresAt <= Math.floor(now / 1000) ? undefined : session;
  }

  async touch(idHash: string, lastSeenAt: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { idHash: str(idHash) },
          UpdateExpression: "SET lastSeenAt = :at",
          // Never resurrect a deleted session as a bare item.
          ConditionExpression: "attribute_exists(idHash)",
          ExpressionAttributeValues: { ":at": num(lastSeenAt) },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
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
