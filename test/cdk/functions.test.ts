import { beforeAll, describe, expect, it } from "vitest";
import { HANDLER_NAMES } from "../../lambdas/handlers/routes.ts";
import { TABLE_NAMES, type TableName } from "../../lib/constructs/data.ts";
import type { EmbedFunction } from "../../lib/constructs/embed-function.ts";
import { configOf, logicalId, permissionsOfRole, type Synthesized, synthEnvironment, SYNTH_TIMEOUT } from "./support.ts";

const LOGS = ["logs:CreateLogStream", "logs:PutLogEvents"];
const XRAY = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"];
const SECRET = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"];

/** Written out by hand (not derived from FUNCTION_ACCESS) so that a widened grant fails here. */
const EXPECTED_TABLE_ACCESS: Record<string, Partial<Record<TableName, string[]>>> = {
  health: {},
  "embed-page": { partners: ["dynamodb:GetItem"] },
  embeddable: { partners: ["dynamodb:GetItem"] },
  session: {
    partners: ["dynamodb:GetItem"],
    identities: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    replay: ["dynamodb:PutItem"],
    sessions: ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
  },
  enter: {
    partners: ["dynamodb:GetItem"],
    identities: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    replay: ["dynamodb:PutItem"],
    sessions: ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"],
  },
  oidc: {
    partners: ["dynamodb:GetItem"],
    identities: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    replay: ["dynamodb:PutItem"],
    sessions: ["dynamodb:DeleteItem", "dynamodb:PutItem"],
  },
  internal: {
    partners: ["dynamodb:GetItem"],
    identities: ["dynamodb:GetItem"],
    replay: ["dynamodb:PutItem"],
    sessions: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
    usage: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
  },
  workspace: { partners: ["dynamodb:GetItem"], identities: ["dynamodb:GetItem"], sessions: ["dynamodb:GetItem", "dynamodb:UpdateItem"] },
};
const READS_PARTNER_KEYS = new Set(["session", "enter"]);

describe("functions", () => {
  let staging: Synthesized;
  let production: Synthesized;
  beforeAll(() => {
    staging = synthEnvironment("staging");
    production = synthEnvironment("production");
  }, SYNTH_TIMEOUT);

  const functionProps = (synth: Synthesized, fn: EmbedFunction) => {
    const resources = synth.json.Resources as Record<string, { Properties: Record<string, unknown> }>;
    return resources[logicalId(fn.function)]?.Properties ?? {};
  };

  it("one function per handler of the route table, plus the partner-sync custom resource", () => {
    expect(Object.keys(staging.stack.functions.functions).sort()).toEqual([...HANDLER_NAMES].sort());
    staging.template.resourceCountIs("AWS::Lambda::Function", HANDLER_NAMES.length + 2); // + partner-sync + BucketDeployment
  });

  it.each([...HANDLER_NAMES])("%s: nodejs24.x on arm64, JSON logs to its own log group, traced, sized", (name) => {
    const fn = staging.stack.functions.functions[name];
    const props = functionProps(staging, fn);
    expect(props.Runtime).toBe("nodejs24.x");
    expect(props.Architectures).toEqual(["arm64"]);
    expect(props.Handler).toBe("index.handler");
    expect(props.MemorySize).toBe(512);
    expect(props.Timeout).toBe(10);
    expect(props.TracingConfig).toEqual({ Mode: "Active" });
    expect(props.LoggingConfig).toEqual({
      ApplicationLogLevel: "INFO",
      LogFormat: "JSON",
      LogGroup: { Ref: logicalId(fn.logGroup) },
      SystemLogLevel: "WARN",
    });
  });

  it.each([...HANDLER_NAMES])("%s: exactly its grants (tables, partner keys, own log group, X-Ray)", (name) => {
    const fn = staging.stack.functions.functions[name];
    const expected: Record<string, string[]> = {
      [logicalId(fn.logGroup)]: LOGS,
      "*": XRAY,
    };
    for (const [table, actions] of Object.entries(EXPECTED_TABLE_ACCESS[name] ?? {})) {
      expected[logicalId(staging.stack.data.tables[table as TableName])] = actions;
    }
    if (READS_PARTNER_KEYS.has(name)) {
      for (const secret of staging.stack.secrets.secrets.values()) expected[`ref:${logicalId(secret)}`] = SECRET;
    }
    if (name === "oidc") {
      // Back-channel logout queries the sessions table's byUser index, and only that index.
      const sessions = logicalId(staging.stack.data.tables.sessions);
      expected[JSON.stringify({ "Fn::Join": ["", [{ "Fn::GetAtt": [sessions, "Arn"] }, "/index/byUser"]] })] = ["dynamodb:Query"];
    }
    expect(permissionsOfRole(staging.json, logicalId(fn.role))).toEqual(expected);
  });

  it("roles carry no AWS-managed policy", () => {
    const roles = staging.template.findResources("AWS::IAM::Role");
    for (const fn of Object.values(staging.stack.functions.functions)) {
      expect(roles[logicalId(fn.role)]?.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it("every function gets the settings and every table and secret name, and no partner data", () => {
    const config = configOf("staging");
    for (const fn of Object.values(staging.stack.functions.functions)) {
      const variables = (functionProps(staging, fn).Environment as { Variables: Record<string, unknown> }).Variables;
      expect(Object.keys(variables).sort()).toEqual(
        [
          "JUPID_SETTINGS",
          "JUPID_SECRET_PREFIX",
          ...TABLE_NAMES.map((table) => `JUPID_TABLE_${table.toUpperCase()}`),
        ].sort(),
      );
      for (const table of TABLE_NAMES) {
        expect(variables[`JUPID_TABLE_${table.toUpperCase()}`]).toEqual({ Ref: logicalId(staging.stack.data.tables[table]) });
      }
      expect(JSON.parse(variables.JUPID_SETTINGS as string)).toEqual({
        environment: "staging",
        appUrl: config.appUrl,
        workspaceBasePath: config.workspaceBasePath,
        sessionLifetimeSeconds: config.sessionLifetimeSeconds,
        sessionIdleTimeoutSeconds: config.sessionIdleTimeoutSeconds,
        keyRotationOverlapSeconds: config.keyRotationOverlapSeconds,
        cacheSeconds: config.cacheSeconds,
      });
      // Source maps are not loaded at run time (a cold-start cost for stacks that are never logged).
      expect(variables.NODE_OPTIONS).toBeUndefined();
    }
  });

  it("log groups: a month outside production, a year and retained in production", () => {
    for (const fn of Object.values(staging.stack.functions.functions)) {
      const group = staging.template.findResources("AWS::Logs::LogGroup")[logicalId(fn.logGroup)];
      expect(group?.Properties.RetentionInDays).toBe(30);
      expect(group?.DeletionPolicy).toBe("Delete");
    }
    for (const fn of Object.values(production.stack.functions.functions)) {
      const group = production.template.findResources("AWS::Logs::LogGroup")[logicalId(fn.logGroup)];
      expect(group?.Properties.RetentionInDays).toBe(365);
      expect(group?.DeletionPolicy).toBe("Retain");
    }
  });

  it("no function may scan or use a dynamodb wildcard, except partner-sync's Scan of the partners table", () => {
    const text = JSON.stringify(staging.template.findResources("AWS::IAM::Policy"));
    expect(text).not.toContain("dynamodb:*");
    const sync = staging.stack.partnerRecords.handler;
    expect(permissionsOfRole(staging.json, logicalId(sync.role))).toEqual({
      [logicalId(sync.logGroup)]: LOGS,
      [logicalId(staging.stack.data.tables.partners)]: ["dynamodb:Scan", "dynamodb:UpdateItem"],
      "*": XRAY,
    });
  });
});
