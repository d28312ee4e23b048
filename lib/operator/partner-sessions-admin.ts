/**
 * Revoking a partner's sessions, for operators: bump the session epoch of its
 * record in the partners table through the gateway's own adapter
 * ({@link DynamoPartnerStore.revokeSessions}), so every session created before
 * is refused by every gateway once its partner cache expires (cacheSeconds).
 *
 * The table is `--partners-table`, else `JUPID_TABLE_PARTNERS`, else the
 * `TablePartners` output of the stack `JupidEmbed-<env>` (CloudFormation).
 */
import { isEmbedError } from "../../lambdas/core/errors.ts";
import { CliError, EXIT } from "./io.ts";
import { awsFailure } from "./partner-secrets-admin.ts";

/** The stack output that names the partners table (lib/stacks/embed-stack.ts: `Table<Name>`). */
export const PARTNERS_TABLE_OUTPUT = "TablePartners";

export interface PartnersTableSource {
  readonly flag?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stackName: string;
  readonly region?: string;
}

/** The partners table name and where it came from. */
export async function resolvePartnersTable(source: PartnersTableSource): Promise<{ table: string; from: string }> {
  if (source.flag) return { table: source.flag, from: "--partners-table" };
  if (source.env.JUPID_TABLE_PARTNERS) return { table: source.env.JUPID_TABLE_PARTNERS, from: "JUPID_TABLE_PARTNERS" };
  let outputs: { OutputKey?: string; OutputValue?: string }[] = [];
  try {
    const cloudformation = await import("@aws-sdk/client-cloudformation");
    const client = new cloudformation.CloudFormationClient({ ...(source.region ? { region: source.region } : {}), maxAttempts: 3 });
    const { Stacks } = await client.send(new cloudformation.DescribeStacksCommand({ StackName: source.stackName }));
    outputs = Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    throw awsFailure(error, `reading the outputs of ${source.stackName}`);
  }
  const table = outputs.find((output) => output.OutputKey === PARTNERS_TABLE_OUTPUT)?.OutputValue;
  if (!table) {
    throw new CliError("PARTNERS_TABLE_UNKNOWN", `${source.stackName} has no ${PARTNERS_TABLE_OUTPUT} output`, EXIT.FAILED, "pass --partners-table <name>");
  }
  return { table, from: `${source.stackName} output ${PARTNERS_TABLE_OUTPUT}` };
}

/** Bump the partner's session epoch; returns the new epoch. */
export async function revokePartnerSessions(table: string, partnerId: string, region?: string): Promise<number> {
  const [{ DynamoDBClient }, { DynamoPartnerStore }] = await Promise.all([
    import("@aws-sdk/client-dynamodb"),
    import("../../lambdas/adapters/aws/partner-store.ts"),
  ]);
  const store = new DynamoPartnerStore(new DynamoDBClient({ ...(region ? { region } : {}), maxAttempts: 3 }), table, 0);
  try {
    return await store.revokeSessions(partnerId);
  } catch (error) {
    if (isEmbedError(error) && error.code === "PARTNER_NOT_FOUND") {
      throw new CliError("PARTNER_NOT_FOUND", `${table} has no record of ${partnerId}`, EXIT.FAILED, "check --env; records are written at deploy");
    }
    throw awsFailure(error, `updating ${partnerId} in ${table}`);
  }
}
