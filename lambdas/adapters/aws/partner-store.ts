import { GetItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PARTNER_ID_PATTERN, type PartnerConfig, partnerSchema } from "../../../config/schema.ts";
import type { PartnerStore } from "../../ports/index.ts";
import { CorruptItemError, readString, str } from "./attributes.ts";
import { TtlCache } from "./cache.ts";

/**
 * Partner records from the partners table (`id` -> `config`, the JSON of a
 * {@link PartnerConfig}), validated with the same schema as the config files
 * and cached per partner for `cacheSeconds` (0 = read every time).
 */
export class DynamoPartnerStore implements PartnerStore {
  private readonly cache: TtlCache<PartnerConfig | undefined>;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    cacheSeconds: number,
    clock: () => number = Date.now,
  ) {
    this.cache = new TtlCache(cacheSeconds, clock);
  }

  async get(partnerId: string): Promise<PartnerConfig | undefined> {
    // An id that cannot be a partner is answered without a read (and without a cache entry).
    if (!PARTNER_ID_PATTERN.test(partnerId)) return undefined;
    return this.cache.get(partnerId, () => this.load(partnerId));
  }

  private async load(partnerId: string): Promise<PartnerConfig | undefined> {
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
    return parsed.data;
  }
}
