/**
 * Issue 12: unknown partner ids used to be cached as negative entries in the
 * same 1000-entry cache as real partners, so a burst of random ids evicted
 * the real ones (one DynamoDB read per unauthenticated request). Unknown ids
 * now live in their own small cache.
 */
import { type DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { DynamoPartnerStore } from "../../lambdas/adapters/aws/partner-store.ts";
import { partnerConfig } from "../contract/worlds.ts";

function countingTable(known: readonly string[]) {
  const reads: string[] = [];
  const client = {
    async send(command: unknown) {
      if (!(command instanceof GetItemCommand)) throw new Error("unexpected command");
      const id = command.input.Key?.id?.S as string;
      reads.push(id);
      return known.includes(id) ? { Item: { id: { S: id }, config: { S: JSON.stringify(partnerConfig(id)) } } } : {};
    },
  };
  return { client: client as unknown as DynamoDBClient, reads };
}

describe("DynamoPartnerStore cache", () => {
  it("5000 unknown ids cannot evict a real partner, and each unknown id costs at most one read", async () => {
    const table = countingTable(["acme-books"]);
    const store = new DynamoPartnerStore(table.client, "partners", 300, () => 1_000_000);
    expect((await store.get("acme-books"))?.id).toBe("acme-books");
    for (let i = 0; i < 5000; i++) expect(await store.get(`nobody-${i}`)).toBeUndefined();
    const readsBefore = table.reads.length;
    expect((await store.get("acme-books"))?.sessionEpoch).toBe(0);
    expect(table.reads.length, "the real partner came from the cache").toBe(readsBefore);
    expect(table.reads.filter((id) => id === "acme-books")).toHaveLength(1);
    // The most recent unknown ids are remembered (in their own, small cache).
    await store.get("nobody-4999");
    expect(table.reads.length).toBe(readsBefore);
  });

  it("one read for concurrent lookups of one id, known or unknown", async () => {
    const table = countingTable(["acme-books"]);
    const store = new DynamoPartnerStore(table.client, "partners", 300, () => 1_000_000);
    await Promise.all(Array.from({ length: 20 }, () => store.get("acme-books")));
    await Promise.all(Array.from({ length: 20 }, () => store.get("nobody")));
    expect(table.reads).toEqual(["acme-books", "nobody"]);
  });
});
