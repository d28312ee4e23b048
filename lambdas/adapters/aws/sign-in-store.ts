import { type DynamoDBClient, GetItemCommand, TransactionCanceledException, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import type { LoginProfile, Session, SignInOutcome, SignInRecord, SignInStore } from "../../ports/index.ts";
import { EmbedError } from "../../core/errors.ts";
import { CorruptItemError } from "./attributes.ts";
import { creationPuts, mapKey, mappedUserId, returningLoginUpdate } from "./identity-store.ts";
import { replayClaimPut } from "./replay-guard.ts";
import { sessionItem } from "./session-store.ts";

/** The tables a sign-in writes (the same ones the replay, identity and session stores use). */
export interface SignInTables {
  readonly replay: string;
  readonly identities: string;
  readonly sessions: string;
}

/** How often a sign-in is retried when DynamoDB cancels its transaction for a conflicting one in flight. */
const MAX_ATTEMPTS = 8;

/**
 * A sign-in in two sequential DynamoDB calls, first login or returning:
 *
 * 1. GetItem (consistent) of the `(partnerId, sub)` mapping;
 * 2. one TransactWriteItems: the jti's conditional put (replay table), then
 *    either the mapping and profile puts, each conditional on not existing
 *    (first login), or the profile update conditional on it existing
 *    (returning), then the session put.
 *
 * The transaction's conditions, not the read, decide: of concurrent first
 * logins exactly one creates the user; the others are cancelled on the
 * mapping's condition, read the winner's mapping and sign in as returning
 * users (one more read and transaction — the only case with more than two
 * calls). A jti that is already claimed cancels the whole transaction, so a
 * replayed token writes nothing. The item formats are the identity, replay
 * and session stores' own (their exported builders), so the tables hold the
 * same records whichever path wrote them.
 */
export class DynamoSignInStore implements SignInStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tables: SignInTables,
    private readonly clock: () => number = Date.now,
  ) {}

  async recordSignIn(record: SignInRecord): Promise<SignInOutcome> {
    const { login } = record;
    let existing = await this.mappedUser(login);
    for (let attempt = 1; ; attempt++) {
      const creating = existing === undefined;
      const userId = existing?.userId ?? record.newUserId;
      const session: Session = { ...record.session, userId };
      const replayPut = replayClaimPut(
        this.tables.replay,
        login.partnerId,
        record.replay.jti,
        record.replay.expiresAt,
        Math.floor(this.clock() / 1000),
      );
      const identityWrites = creating
        ? creationPuts(this.tables.identities, login, userId, record.now).puts.map((Put) => ({ Put }))
        : [{ Update: returningLoginUpdate(this.tables.identities, userId, login, record.now) }];
      try {
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: replayPut },
              ...identityWrites,
              { Put: { TableName: this.tables.sessions, Item: sessionItem(session) } },
            ],
          }),
        );
        const email = creating ? login.email : existing?.email;
        return {
          kind: "signed-in",
          user: { userId, partnerId: login.partnerId, sub: login.sub, ...(email === undefined ? {} : { email }) },
          created: creating,
          session,
        };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [replay, first, second] = (error.CancellationReasons ?? []).map((reason) => reason.Code);
        if (replay === "ConditionalCheckFailed") return { kind: "replayed" };
        if (creating && first === "ConditionalCheckFailed") {
          // Lost the race for the first login: the winner's mapping exists now (mappings are never deleted).
          existing = await this.mappedUser(login);
          // Not visible yet (a concurrent first login still settling): the caller may retry with a fresh token.
          if (existing === undefined) throw new EmbedError("SERVICE_UNAVAILABLE", "the sign-in did not settle; try again");
          continue;
        }
        if (creating && second === "ConditionalCheckFailed") {
          throw new Error(`${this.tables.identities}: generated user id ${userId} already exists`);
        }
        if (!creating && first === "ConditionalCheckFailed") {
          throw new CorruptItemError(`${this.tables.identities}: the mapping of a login points at user ${userId}, which does not exist`);
        }
        const conflict = (error.CancellationReasons ?? []).some((reason) => reason.Code === "TransactionConflict");
        if (!conflict) throw error;
        if (attempt >= MAX_ATTEMPTS) {
          throw new EmbedError("SERVICE_UNAVAILABLE", "the sign-in did not settle; try again");
        }
        // A concurrent transaction on the same items: back off and try again.
        await sleep(Math.random() * Math.min(200, 5 * 2 ** attempt));
      }
    }
  }

  /** The mapped user id and first-login email (mappings written before the email rode on them have none). */
  private async mappedUser(login: LoginProfile): Promise<{ userId: string; email?: string } | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tables.identities,
        Key: mapKey(login.partnerId, login.sub),
        ConsistentRead: true,
        ProjectionExpression: "userId, email",
      }),
    );
    if (!Item) return undefined;
    const email = Item.email?.S;
    return { userId: mappedUserId(Item, this.tables.identities), ...(email === undefined ? {} : { email }) };
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
