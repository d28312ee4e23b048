import { ConditionalCheckFailedException, type DynamoDBClient, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { PARTNER_ID_PATTERN, partnerSchema } from "../../../config/schema.ts";
import { EmbedError } from "../../core/errors.ts";
import type { PartnerRecord, PartnerStore } from "../../ports/index.ts";
import { CorruptItemError, type Item, num, readString, str } from "./attributes.ts";
import { TtlCache } from "./cache.ts";

/** The partners-table attribute holding {@link PartnerRecord.sessionEpoch}; partner-sync and the CLI write it too. */
export const SESSION_EPOCH_ATTRIBUTE = "sessionEpoch";

/** How many unknown partner ids a warm process remembers; kept apart so they can never evict real partners. */
const UNKNOWN_IDS_CACHED = 100;

/**
 * Partner records from the partners table (`id` -> `config`, the JSON of a
 * {@link PartnerConfig}, plus `sessionEpoch`), validated with the same schema
 * as the config files and cached per partner for `cacheSeconds` (0 = read
 * every time). Unknown ids are cached too, but in their own small cache:
 * requests for random ids cost at most one read each and never push a real
 * partner out of its cache.
 */
export class DynamoPartnerStore implements PartnerStore {
  private readonly known: TtlCache<PartnerRecord>;
  private readonly unknown: TtlCache<undefined>;
  private readonly loading = new Map<string, Promise<PartnerRecord | undefined>>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly cacheSeconds: number,
    clock: () => number = Date.now,
  ) {
    this.known = new TtlCache(cacheSeconds, clock);
    this.unknown = new TtlCache(cacheSeconds, clock, UNKNOWN_IDS_CACHED);
  }

  async get(partnerId: string): Promise<PartnerRecord | undefined> {
    // An id that cannot be a partner is answered without a read (and without a cache entry).
    if (!PARTNER_ID_PATTERN.test(partnerId)) return undefined;
    if (this.cacheSeconds <= 0) return this.load(partnerId);
    const cached = this.known.peek(partnerId) ?? this.unknown.peek(partnerId);
    if (cached) return cached;
    let pending = this.loading.get(partnerId);
    if (!pending) {
      pending = this.load(partnerId)
        .then((record) => {
          if (record) this.known.set(partnerId, record);
          else this.unknown.set(partnerId, undefined);
          return record;
        })
        .finally(() => this.loading.delete(partnerId));
      this.loading.set(partnerId, pending);
    }
    return pending;
  }

  async revokeSessions(partnerId: string): Promise<number> {
    if (!PARTNER_ID_PATTERN.test(partnerId)) throw new EmbedError("PARTNER_NOT_FOUND", `no partner record ${partnerId}`);
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { id: str(partnerId) },
          UpdateExpression: "ADD #epoch :one",
          ConditionExpression: "attribute_exists(id)",
          ExpressionAttributeNames: { "#epoch": SESSION_EPOCH_ATTRIBUTE },
          ExpressionAttributeValues: { ":one": num(1) },
          ReturnValues: "UPDATED_NEW",
        }),
      );
      return Number(Attributes?.[SESSION_EPOCH_ATTRIBUTE]?.N);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new EmbedError("PARTNER_NOT_FOUND", `no partner record ${partnerId}`);
      throw error;
    }
  }

  private async load(partnerId: string): Promise<PartnerRecord | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { id: str(partnerId) }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const where = `${this.tableName} item "${partnerId}"`;
    let json: unknown;
    try {
      json = JSON.parse(readString(Item, "config", this.tableName));
    } catch (cause) {
      throw new CorruptItemError(`${where}: config is not valid JSON`, { cause });
    }
    const parsed = partnerSchema.safeParse(json);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(config)"}: ${issue.message}`);
      throw new CorruptItemError(`${where}: invalid partner config (${fields.join("; ")})`);
    }
    if (parsed.data.id !== partnerId) {
      throw new CorruptItemError(`${where}: config.id is "${parsed.data.id}"`);
    }
    return { ...parsed.data, sessionEpoch: readEpoch(Item, where) };
  }
}

function readEpoch(item: Item, where: string): number {
  const attribute = item[SESSION_EPOCH_ATTRIBUTE];
  if (attribute === undefined) return 0;
  const value = Number(attribute.N);
  if (!Number.isSafeInteger(value) || value < 0) throw new CorruptItemError(`${where}: ${SESSION_EPOCH_ATTRIBUTE} is not a count`);
  return value;
}
