/**
 * What was deployed, read back from the target the way an operator would:
 * CloudFormation DescribeStacks for the outputs, ListStackResources for the
 * resources, the functions' log groups for their logs. The clients take
 * region, credentials and endpoint from the environment (AWS_ENDPOINT_URL is
 * set by the emulator global setup), so nothing here knows which emulator,
 * if any, it talks to.
 */
import {
  CloudFormationClient,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type StackResourceSummary,
} from "@aws-sdk/client-cloudformation";
import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { emulatorLogTail } from "../../support/ministack.ts";
import { STACK_NAME } from "./cdk.ts";

let clients:
  | { cloudFormation: CloudFormationClient; logs: CloudWatchLogsClient; dynamodb: DynamoDBClient; secrets: SecretsManagerClient }
  | undefined;

/** SDK clients for the target, built on first use (after the global setup filled the environment). */
export function aws() {
  clients ??= {
    cloudFormation: new CloudFormationClient({}),
    logs: new CloudWatchLogsClient({}),
    dynamodb: new DynamoDBClient({}),
    secrets: new SecretsManagerClient({}),
  };
  return clients;
}

/** The outputs of lib/stacks/embed-stack.ts the suite relies on. */
export const REQUIRED_OUTPUTS = [
  "ApiId",
  "ApiStage",
  "ApiUrl",
  "SecretPrefix",
  "TablePartners",
  "TableIdentities",
  "TableReplay",
  "TableSessions",
  "TableUsage",
] as const;

export type StackOutputs = Readonly<Record<(typeof REQUIRED_OUTPUTS)[number], string>> & Readonly<Record<string, string>>;

/** DescribeStacks: status and outputs; throws naming any missing output. */
export async function readStack(): Promise<{ status: string; outputs: StackOutputs }> {
  const { Stacks } = await aws().cloudFormation.send(new DescribeStacksCommand({ StackName: STACK_NAME }));
  const stack = Stacks?.[0];
  if (!stack) throw new Error(`DescribeStacks ${STACK_NAME}: no such stack`);
  const outputs: Record<string, string> = {};
  for (const output of stack.Outputs ?? []) {
    if (output.OutputKey && output.OutputValue !== undefined) outputs[output.OutputKey] = output.OutputValue;
  }
  const missing = REQUIRED_OUTPUTS.filter((key) => !outputs[key]);
  if (missing.length > 0) {
    throw new Error(`stack ${STACK_NAME} lacks the outputs ${missing.join(", ")} (has: ${Object.keys(outputs).join(", ")})`);
  }
  return { status: stack.StackStatus ?? "?", outputs: outputs as StackOutputs };
}

export async function listResources(): Promise<StackResourceSummary[]> {
  const resources: StackResourceSummary[] = [];
  let token: string | undefined;
  do {
    const page = await aws().cloudFormation.send(new ListStackResourcesCommand({ StackName: STACK_NAME, NextToken: token }));
    resources.push(...(page.StackResourceSummaries ?? []));
    token = page.NextToken;
  } while (token);
  return resources;
}

/**
 * The API's base URL (no trailing slash). Against an endpoint (MiniStack,
 * LocalStack) it is that endpoint's path-style execute-api address, which both
 * emulators serve and which needs no wildcard DNS; against AWS it is the
 * stage URL the stack outputs.
 */
export function apiBaseUrl(outputs: StackOutputs, endpoint = process.env.AWS_ENDPOINT_URL): string {
  if (endpoint) return `${endpoint.replace(/\/+$/, "")}/_aws/execute-api/${outputs.ApiId}/${outputs.ApiStage}`;
  return outputs.ApiUrl.replace(/\/+$/, "");
}

/**
 * A failure report: what is deployed (stack status, outputs, resources, the
 * latest failed events), the recent logs of the stack's functions, and the
 * emulator's own log tail. Never throws: a report about a broken target must
 * still come out.
 */
export async function deploymentReport(since: number, logLines = 15): Promise<string> {
  const sections: string[] = [`=== deployment report: ${STACK_NAME} at ${process.env.AWS_ENDPOINT_URL ?? "AWS"} ===`];
  try {
    const { Stacks } = await aws().cloudFormation.send(new DescribeStacksCommand({ StackName: STACK_NAME }));
    const stack = Stacks?.[0];
    sections.push(`stack status: ${stack?.StackStatus ?? "?"} ${stack?.StackStatusReason ?? ""}`.trimEnd());
    sections.push(
      `outputs:\n${(stack?.Outputs ?? []).map((output) => `  ${output.OutputKey} = ${output.OutputValue}`).join("\n") || "  (none)"}`,
    );
  } catch (error) {
    sections.push(`DescribeStacks failed: ${describe(error)}`);
  }
  let resources: StackResourceSummary[] = [];
  try {
    resources = await listResources();
    const counts = new Map<string, number>();
    for (const resource of resources) counts.set(resource.ResourceType ?? "?", (counts.get(resource.ResourceType ?? "?") ?? 0) + 1);
    // The resources a reader of a failure needs by name; API Gateway methods, resources and permissions only by count.
    const named = resources.filter(
      (resource) =>
        !/_COMPLETE$/.test(resource.ResourceStatus ?? "") || !/^AWS::(ApiGateway::(Method|Resource)|Lambda::Permission|IAM::)/.test(resource.ResourceType ?? ""),
    );
    sections.push(
      `resources: ${resources.length} (${[...counts].map(([type, count]) => `${type.replace(/^AWS::/, "")}=${count}`).join(", ")})\n${named
        .map(
          (resource) =>
            `  ${resource.ResourceStatus?.padEnd(16)} ${resource.ResourceType?.padEnd(40)} ${resource.LogicalResourceId} -> ${resource.PhysicalResourceId ?? "-"}${resource.ResourceStatusReason ? ` (${resource.ResourceStatusReason})` : ""}`,
        )
        .join("\n")}`,
    );
  } catch (error) {
    sections.push(`ListStackResources failed: ${describe(error)}`);
  }
  try {
    const { StackEvents } = await aws().cloudFormation.send(new DescribeStackEventsCommand({ StackName: STACK_NAME }));
    const failed = (StackEvents ?? []).filter((event) => event.ResourceStatus?.endsWith("FAILED")).slice(0, 10);
    if (failed.length > 0) {
      sections.push(
        `failed stack events:\n${failed.map((event) => `  ${event.Timestamp?.toISOString()} ${event.LogicalResourceId} ${event.ResourceStatus}: ${event.ResourceStatusReason ?? ""}`).join("\n")}`,
      );
    }
  } catch (error) {
    sections.push(`DescribeStackEvents failed: ${describe(error)}`);
  }
  for (const group of resources.filter((resource) => resource.ResourceType === "AWS::Logs::LogGroup")) {
    if (!group.PhysicalResourceId || !/Functions|PartnerRecords/.test(group.LogicalResourceId ?? "")) continue;
    sections.push(await logTail(group.PhysicalResourceId, group.LogicalResourceId ?? "", since, logLines));
  }
  sections.push(emulatorLogTail(60));
  return sections.join("\n");
}

async function logTail(groupName: string, logicalId: string, since: number, lines: number): Promise<string> {
  try {
    const messages: string[] = [];
    let token: string | undefined;
    // Bounded: a report is for reading, not for copying the whole log.
    for (let page = 0; page < 20; page++) {
      const result = await aws().logs.send(
        new FilterLogEventsCommand({ logGroupName: groupName, startTime: since, nextToken: token, limit: 1000 }),
      );
      for (const event of result.events ?? []) {
        // The runtime's START/END/REPORT lines only frame the function's own lines.
        if (event.message && !/^(START|END|REPORT) RequestId:/.test(event.message)) messages.push(event.message.trimEnd());
      }
      token = result.nextToken;
      if (!token) break;
    }
    if (messages.length === 0) return `--- ${logicalId}: no log events since the suite started ---`;
    return `--- ${logicalId} (${groupName}), last ${Math.min(lines, messages.length)} of ${messages.length} events ---\n${messages.slice(-lines).join("\n")}`;
  } catch (error) {
    return `--- ${logicalId}: cannot read ${groupName}: ${describe(error)} ---`;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
