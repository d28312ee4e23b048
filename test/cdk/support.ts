/**
 * Shared synth helpers for the CDK tests. Every synth goes through the real
 * app wiring (lib/app.ts) with the cdk-nag packs registered, so any test
 * that synthesizes also proves the template is cdk-nag clean (an in-memory
 * synth throws on violations). Bundling is skipped (context
 * `aws:cdk:bundling-stacks: []`) except in bundling.test.ts.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { App, CfnResource, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { Construct } from "constructs";
import { type EnvironmentConfig, loadEnvironmentConfig, partnersFile } from "../../config/schema.ts";
import { addEmbedStacks, applyNagChecks, type DeployedEnvironment, type EmbedAppOptions } from "../../lib/app.ts";
import { PROJECT_ROOT } from "../../lib/paths.ts";
import type { EmbedStack } from "../../lib/stacks/embed-stack.ts";

/** beforeAll budget for a file's synths (the first synth of a worker loads aws-cdk-lib: seconds on 2 cores). */
export const SYNTH_TIMEOUT = 120_000;

export const TEST_ACCOUNT = "123456789012";
/** Not us-east-1, so that production's pinned region shows in the templates. */
export const TEST_REGION = "eu-central-1";
export const TEST_PROCESS_ENV = { CDK_DEFAULT_ACCOUNT: TEST_ACCOUNT, CDK_DEFAULT_REGION: TEST_REGION };

/** Stands in for sdk/dist so that templates do not depend on the SDK build. */
export const SDK_FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "sdk-dist");

export interface Synthesized {
  readonly app: App;
  readonly stack: EmbedStack;
  readonly template: Template;
  readonly json: Record<string, unknown>;
}

export interface SynthOptions extends Omit<EmbedAppOptions, "environments"> {
  /** Run esbuild for the functions. @default false */
  readonly bundling?: boolean;
}

/** cdk.json's context (feature flags), which the CLI passes to bin/app.ts; tests must synth with the same. */
const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(join(PROJECT_ROOT, "cdk.json"), "utf8")) as { context?: Record<string, unknown> })
  .context;

export function newTestApp(bundling = false): App {
  return new App({
    analyticsReporting: false,
    context: { ...CDK_JSON_CONTEXT, ...(bundling ? {} : { "aws:cdk:bundling-stacks": [] }) },
  });
}

/** One environment's stack, synthesized with cdk-nag (throws on any unacknowledged finding). */
export function synthEnvironment(environment: DeployedEnvironment, options: SynthOptions = {}): Synthesized {
  const { bundling, ...appOptions } = options;
  const app = newTestApp(bundling);
  const [stack] = addEmbedStacks(app, {
    sdkDistDir: SDK_FIXTURE_DIR,
    processEnv: TEST_PROCESS_ENV,
    ...appOptions,
    environments: [environment],
  });
  if (!stack) throw new Error("no stack");
  applyNagChecks(app);
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() };
}

export function configOf(environment: DeployedEnvironment): EnvironmentConfig {
  return loadEnvironmentConfig(partnersFile(environment));
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(construct: Construct): string {
  const resource = (CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource;
  return Stack.of(construct).resolve(resource.logicalId) as string;
}

/** Replace asset hashes (and other content hashes) so snapshots only change when resources do. */
export function normalizeTemplate(template: unknown): unknown {
  const text = JSON.stringify(template)
    .replace(/[0-9a-f]{64}(\.zip|\.json)?/g, "<hash>$1")
    .replace(/cdk-hnb659fds-assets-[^"/]+/g, "cdk-assets-bucket");
  return JSON.parse(text);
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** The Allow statements of the inline policies attached to a role (by logical id). */
export function statementsOfRole(json: Record<string, unknown>, roleLogicalId: string): Statement[] {
  const resources = json.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const statements: Statement[] = [];
  for (const resource of Object.values(resources)) {
    if (resource.Type !== "AWS::IAM::Policy") continue;
    const roles = resource.Properties.Roles as Array<{ Ref: string }>;
    if (!roles.some((role) => role.Ref === roleLogicalId)) continue;
    const document = resource.Properties.PolicyDocument as { Statement: Statement[] };
    statements.push(...document.Statement);
  }
  return statements;
}

/**
 * A role's permissions as `{ <resource>: sorted actions }`, where a resource
 * is the logical id of the table/log group it points at, `secret:<id>` for
 * partner secrets, or the literal ARN.
 */
export function permissionsOfRole(json: Record<string, unknown>, roleLogicalId: string): Record<string, string[]> {
  const result: Record<string, Set<string>> = {};
  for (const statement of statementsOfRole(json, roleLogicalId)) {
    if (statement.Effect !== "Allow") continue;
    const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    for (const resource of resources) {
      const key = resourceKey(resource);
      result[key] ??= new Set();
      for (const action of actions) result[key].add(action);
    }
  }
  return Object.fromEntries(Object.entries(result).map(([key, actions]) => [key, [...actions].sort()]));
}

function resourceKey(resource: unknown): string {
  if (typeof resource === "string") return resource;
  const value = resource as Record<string, unknown>;
  if (Array.isArray(value["Fn::GetAtt"])) return String(value["Fn::GetAtt"][0]);
  if (typeof value.Ref === "string") return `ref:${value.Ref}`;
  return JSON.stringify(resource);
}

/** Resources of a type as [logicalId, properties]. */
export function resourcesOfType(json: Record<string, unknown>, type: string): Array<[string, Record<string, unknown>]> {
  const resources = json.Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  return Object.entries(resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id, resource]) => [id, resource.Properties ?? {}]);
}
