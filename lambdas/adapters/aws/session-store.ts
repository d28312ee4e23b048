import { DeleteItemCommand, type DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { SHELL_MODES, type ShellMode } from "../../../config/schema.ts";
import type { Session, SessionStore } from "../../ports/index.ts";
import { bool, CorruptItemError, num, readBoolean, readNumber, readString, str } from "./attributes.ts";

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
    try {
      await this.write(session);
    } catch (error) {
      // The write may have landed before the failure (a timeout, a lost answer): a sign-in that
      // failed must leave no session behind, so remove it, best effort, before reporting the failure.
      await this.delete(session.idHash).catch(() => undefined);
      throw error;
    }
  }

  private async write(session: Session): Promise<void> {
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
          epoch: num(session.epoch),
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
      // Sessions stored before epochs existed have none: they count as epoch 0.
      epoch: Item.epoch === undefined ? 0 : readNumber(Item, "epoch", table),
    };
  }

  async delete(idHash: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { idHash: str(idHash) } }));
  }
}
