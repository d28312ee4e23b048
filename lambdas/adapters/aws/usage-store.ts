import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import type { UsageStore } from "../../ports/index.ts";
import { CorruptItemError, num, readNumber, str } from "./attributes.ts";

/** Usage counters per `(userId, metric)`: atomic `ADD`, so concurrent adds never lose an increment. */
export class DynamoUsageStore implements UsageStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async add(userId: string, metric: string, amount: number): Promise<number> {
    const { Attributes } = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { userId: str(userId), metric: str(metric) },
        UpdateExpression: "ADD #used :amount",
        ExpressionAttributeNames: { "#used": "used" },
        ExpressionAttributeValues: { ":amount": num(amount) },
        ReturnValues: "UPDATED_NEW",
      }),
    );
    if (!Attributes) throw new CorruptItemError(`${this.tableName}: ADD returned no attributes`);
    return readNumber(Attributes, "used", this.tableName);
  }

  async get(userId: string, metric: string): Promise<number> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { userId: str(userId), metric: str(metric) },
        ConsistentRead: true,
      }),
    );
    return Item ? readNumber(Item, "used", this.tableName) : 0;
  }
}
