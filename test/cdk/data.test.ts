import { beforeAll, describe, expect, it } from "vitest";
import { TABLE_NAMES, TABLE_SPECS } from "../../lib/constructs/data.ts";
import { TABLE_SPECS as CONTRACT_TABLE_SPECS } from "../support/aws-tables.ts";
import { logicalId, type Synthesized, synthEnvironment, SYNTH_TIMEOUT } from "./support.ts";

describe("data: DynamoDB tables", () => {
  let staging: Synthesized;
  let production: Synthesized;
  beforeAll(() => {
    staging = synthEnvironment("staging");
    production = synthEnvironment("production");
  }, SYNTH_TIMEOUT);

  it("has the brief's key schemas, the same the contract tests create", () => {
    for (const spec of CONTRACT_TABLE_SPECS) {
      const ours = TABLE_SPECS[spec.suffix as keyof typeof TABLE_SPECS];
      expect(ours, spec.suffix).toBeDefined();
      expect({ pk: ours.partitionKey, sk: ours.sortKey, ttl: ours.ttlAttribute }).toEqual({
        pk: spec.partitionKey,
        sk: spec.sortKey,
        ttl: spec.ttlAttribute,
      });
    }
    expect(TABLE_NAMES).toHaveLength(CONTRACT_TABLE_SPECS.length);
  });

  it.each([
    ["partners", [{ AttributeName: "id", KeyType: "HASH" }], undefined],
    [
      "identities",
      [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      undefined,
    ],
    ["replay", [{ AttributeName: "key", KeyType: "HASH" }], "expiresAt"],
    ["sessions", [{ AttributeName: "idHash", KeyType: "HASH" }], "expiresAt"],
    [
      "usage",
      [
        { AttributeName: "userId", KeyType: "HASH" },
        { AttributeName: "metric", KeyType: "RANGE" },
      ],
      undefined,
    ],
  ] as const)("%s: string keys, on-demand, PITR, TTL %s", (name, keySchema, ttl) => {
    const table = staging.stack.data.tables[name];
    const resources = staging.json.Resources as Record<string, { Properties: Record<string, unknown> }>;
    const props = resources[logicalId(table)]?.Properties ?? {};
    expect(props.KeySchema).toEqual(keySchema);
    const indexKeys = name === "sessions" ? ["userId", "partnerId"] : [];
    expect(props.AttributeDefinitions).toEqual(
      [...keySchema.map((key) => key.AttributeName), ...indexKeys].map((attribute) => ({ AttributeName: attribute, AttributeType: "S" })),
    );
    expect(props.BillingMode).toBe("PAY_PER_REQUEST");
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    if (ttl) expect(props.TimeToLiveSpecification).toEqual({ AttributeName: ttl, Enabled: true });
    else expect(props.TimeToLiveSpecification).toBeUndefined();
    expect(props.TableName, "names are generated so environments can share an account").toBeUndefined();
  });

  it("sessions have the byUser index (userId, partnerId) that back-channel logout queries", () => {
    const resources = staging.json.Resources as Record<string, { Properties: Record<string, unknown> }>;
    const props = resources[logicalId(staging.stack.data.tables.sessions)]?.Properties ?? {};
    expect(props.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: "byUser",
        KeySchema: [
          { AttributeName: "userId", KeyType: "HASH" },
          { AttributeName: "partnerId", KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "ALL" },
      },
    ]);
  });

  it("production tables are retained and deletion-protected", () => {
    production.template.resourceCountIs("AWS::DynamoDB::Table", 5);
    const tables = production.template.findResources("AWS::DynamoDB::Table");
    for (const table of Object.values(tables)) {
      expect(table.DeletionPolicy).toBe("Retain");
      expect(table.UpdateReplacePolicy).toBe("Retain");
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    }
  });

  it("staging tables go with the stack", () => {
    const tables = staging.template.findResources("AWS::DynamoDB::Table");
    for (const table of Object.values(tables)) {
      expect(table.DeletionPolicy).toBe("Delete");
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    }
  });
});
