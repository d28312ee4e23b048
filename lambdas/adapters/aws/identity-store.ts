import {
  type DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { IdentityStore, JupidUser, LoginProfile } from "../../ports/index.ts";
import { CorruptItemError, type Item, num, readNumber, readOptionalString, readString, str } from "./attributes.ts";

const PROFILE = "PROFILE";
/** The key of the mapping item of `(partnerId, sub)`. */
export const mapKey = (partnerId: string, sub: string): Item => ({ pk: str(`MAP#${partnerId}`), sk: str(sub) });
const userKey = (userId: string): Item => ({ pk: str(`USER#${userId}`), sk: str(PROFILE) });

/** The mapping and profile items a first login creates, each on condition it does not exist yet. */
export function creationPuts(tableName: string, profile: LoginProfile, userId: string, now: number) {
  const user: JupidUser = {
    userId,
    partnerId: profile.partnerId,
    sub: profile.sub,
    ...(profile.email === undefined ? {} : { email: profile.email }),
    ...(profile.name === undefined ? {} : { name: profile.name }),
    ...(profile.payload === undefined ? {} : { payload: profile.payload }),
    createdAt: now,
    lastLoginAt: now,
  };
  const userItem: Item = {
    ...userKey(userId),
    partnerId: str(profile.partnerId),
    sub: str(profile.sub),
    createdAt: num(now),
    lastLoginAt: num(now),
  };
  if (profile.email !== undefined) userItem.email = str(profile.email);
  if (profile.name !== undefined) userItem.name = str(profile.name);
  if (profile.payload !== undefined) userItem.payload = str(JSON.stringify(profile.payload));
  const puts = [
    {
      TableName: tableName,
      // The first-login email rides on the mapping too (it never changes), so that a sign-in's
      // one mapping read knows everything the first workspace view shows.
      Item: { ...mapKey(profile.partnerId, profile.sub), userId: str(userId), ...(profile.email === undefined ? {} : { email: str(profile.email) }) },
      ConditionExpression: "attribute_not_exists(pk)",
    },
    { TableName: tableName, Item: userItem, ConditionExpression: "attribute_not_exists(pk)" },
  ] as const;
  return { user, puts };
}

/**
 * The update a returning login makes to its user: name, payload and
 * lastLoginAt from the token (the email never changes), on condition the
 * profile exists and belongs to this `(partnerId, sub)`, so that a mapping
 * can never create a partial profile.
 */
export function returningLoginUpdate(tableName: string, userId: string, profile: LoginProfile, now: number) {
  const set = ["#lastLoginAt = :now"];
  const remove: string[] = [];
  const values: Item = { ":now": num(now) };
  if (profile.name === undefined) remove.push("#name");
  else {
    set.push("#name = :name");
    values[":name"] = str(profile.name);
  }
  if (profile.payload === undefined) remove.push("#payload");
  else {
    set.push("#payload = :payload");
    values[":payload"] = str(JSON.stringify(profile.payload));
  }
  return {
    TableName: tableName,
    Key: userKey(userId),
    UpdateExpression: `SET ${set.join(", ")}${remove.length > 0 ? ` REMOVE ${remove.join(", ")}` : ""}`,
    ConditionExpression: "attribute_exists(pk) AND #partnerId = :partnerId AND #sub = :sub",
    ExpressionAttributeNames: { "#name": "name", "#sub": "sub", "#partnerId": "partnerId", "#payload": "payload", "#lastLoginAt": "lastLoginAt" },
    ExpressionAttributeValues: { ...values, ":partnerId": str(profile.partnerId), ":sub": str(profile.sub) },
  };
}

/** The user id a mapping item points at. */
export function mappedUserId(item: Item, tableName: string): string {
  return readString(item, "userId", tableName);
}

/** How often a login is retried when DynamoDB cancels a transaction for a conflicting one in flight. */
const MAX_ATTEMPTS = 8;

/**
 * `(partnerId, sub)` -> Jupid user in one table: a mapping item
 * (`MAP#<partnerId>` / `<sub>` byte-exact -> userId) and a profile item
 * (`USER#<userId>` / `PROFILE`).
 *
 * Every login first tries to create both items in one transaction, each
 * conditional on not existing, so concurrent first logins create exactly one
 * user and a mapping never exists without its user (nor a user without its
 * mapping). When the mapping exists (a returning user, or the loser of a
 * race) the existing user is updated instead. The email is written only by
 * the creating transaction; name, payload and lastLoginAt by every login.
 */
export class DynamoIdentityStore implements IdentityStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async recordLogin(profile: LoginProfile, newUserId: string, now: number): Promise<{ user: JupidUser; created: boolean }> {
    for (let attempt = 1; ; attempt++) {
      // Always try to create first: the transaction's conditions, not an earlier read,
      // decide who creates the user, so concurrent first logins cannot both win.
      const outcome = await this.create(profile, newUserId, now);
      if (outcome.kind === "created") return { user: outcome.user, created: true };
      if (outcome.kind === "user-id-taken") {
        throw new Error(`${this.tableName}: generated user id ${newUserId} already exists`);
      }
      if (outcome.kind === "mapping-exists") {
        // Mappings are never deleted, and the transaction wrote mapping and user together.
        const existingId = await this.findUserId(profile.partnerId, profile.sub);
        if (existingId !== undefined) return { user: await this.updateExisting(existingId, profile, now), created: false };
      }
      // A concurrent transaction on the same items (DynamoDB cancels with TransactionConflict): back off, retry.
      if (attempt >= MAX_ATTEMPTS) {
        throw new Error(`${this.tableName}: login for partner ${profile.partnerId} did not settle after ${attempt} attempts`);
      }
      await sleep(Math.random() * Math.min(200, 5 * 2 ** attempt));
    }
  }

  async getUser(userId: string): Promise<JupidUser | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: userKey(userId), ConsistentRead: true }),
    );
    return Item ? this.toUser(Item) : undefined;
  }

  async findUserId(partnerId: string, sub: string): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: mapKey(partnerId, sub),
        ConsistentRead: true,
        ProjectionExpression: "userId",
      }),
    );
    return Item ? mappedUserId(Item, this.tableName) : undefined;
  }

  private async create(
    profile: LoginProfile,
    userId: string,
    now: number,
  ): Promise<{ kind: "created"; user: JupidUser } | { kind: "mapping-exists" | "user-id-taken" | "conflict" }> {
    const { user, puts } = creationPuts(this.tableName, profile, userId, now);
    try {
      await this.client.send(new TransactWriteItemsCommand({ TransactItems: puts.map((Put) => ({ Put })) }));
      return { kind: "created", user };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [mapping, userRow] = (error.CancellationReasons ?? []).map((reason) => reason.Code);
      if (mapping === "ConditionalCheckFailed") return { kind: "mapping-exists" };
      if (userRow === "ConditionalCheckFailed") return { kind: "user-id-taken" };
      if ([mapping, userRow].includes("TransactionConflict")) return { kind: "conflict" };
      throw error;
    }
  }

  private async updateExisting(userId: string, profile: LoginProfile, now: number): Promise<JupidUser> {
    const { Attributes } = await this.client.send(
      new UpdateItemCommand({ ...returningLoginUpdate(this.tableName, userId, profile, now), ReturnValues: "ALL_NEW" }),
    );
    if (!Attributes) throw new CorruptItemError(`${this.tableName}: update of user ${userId} returned no item`);
    return this.toUser(Attributes);
  }

  private toUser(item: Item): JupidUser {
    const table = this.tableName;
    const pk = readString(item, "pk", table);
    if (!pk.startsWith("USER#")) throw new CorruptItemError(`${table}: "${pk}" is not a user item`);
    const email = readOptionalString(item, "email", table);
    const name = readOptionalString(item, "name", table);
    const payloadJson = readOptionalString(item, "payload", table);
    return {
      userId: pk.slice("USER#".length),
      partnerId: readString(item, "partnerId", table),
      sub: readString(item, "sub", table),
      ...(email === undefined ? {} : { email }),
      ...(name === undefined ? {} : { name }),
      ...(payloadJson === undefined ? {} : { payload: JSON.parse(payloadJson) as Record<string, unknown> }),
      createdAt: readNumber(item, "createdAt", table),
      lastLoginAt: readNumber(item, "lastLoginAt", table),
    };
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
