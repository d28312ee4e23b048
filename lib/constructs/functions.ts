import type { RemovalPolicy } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { EnvironmentConfig } from "../../config/schema.ts";
import type { GatewaySettings } from "../../lambdas/core/settings.ts";
import { HANDLER_NAMES, type HandlerName } from "../../lambdas/handlers/routes.ts";
import { TABLE_NAMES, type TableName, tableEnvName } from "./data.ts";
import { EmbedFunction } from "./embed-function.ts";
import type { PartnerSecrets } from "./partner-secrets.ts";

const GET = "dynamodb:GetItem";
const PUT = "dynamodb:PutItem";
const UPDATE = "dynamodb:UpdateItem";
const DELETE = "dynamodb:DeleteItem";

/** What one handler may do: DynamoDB actions per table, and whether it reads partner keys. */
export interface FunctionAccess {
  readonly tables: Partial<Readonly<Record<TableName, readonly string[]>>>;
  readonly partnerKeys: boolean;
}

/**
 * Least privilege, derived from the ports each handler's code path uses
 * (lambdas/adapters/aws/*): GetItem for reads (always ConsistentRead),
 * conditional PutItem for the replay guard and session writes,
 * TransactWriteItems of two conditional Puts plus UpdateItem for identities
 * (transactions are authorised per item action), UpdateItem for counters.
 */
export const FUNCTION_ACCESS: Readonly<Record<HandlerName, FunctionAccess>> = {
  health: { tables: {}, partnerKeys: false },
  "embed-page": { tables: { partners: [GET] }, partnerKeys: false },
  session: {
    // POST signs in; GET reads the cookie's session; DELETE signs out.
    tables: { partners: [GET], identities: [GET, PUT, UPDATE], replay: [PUT], sessions: [GET, PUT, DELETE] },
    partnerKeys: true,
  },
  enter: {
    // GET/DELETE on sessions: the browser's live session is read (would a sign-in replace another user's?) and ended when replaced.
    tables: { partners: [GET], identities: [GET, PUT, UPDATE], replay: [PUT], sessions: [GET, PUT, DELETE] },
    partnerKeys: true,
  },
  internal: {
    tables: { partners: [GET], identities: [GET], sessions: [GET], usage: [GET, UPDATE] },
    partnerKeys: false,
  },
  workspace: { tables: { partners: [GET], identities: [GET], sessions: [GET] }, partnerKeys: false },
};

const DESCRIPTIONS: Readonly<Record<HandlerName, string>> = {
  health: "GET /healthz",
  "embed-page": "GET /embed/{partnerId}: iframe bootstrap page",
  session: "GET|POST|DELETE /embed/{partnerId}/session: token sign-in, session check, sign-out",
  enter: "GET|POST /partner/{partnerId}/enter: redirect integration",
  internal: "/internal/*: session resolution, usage and entitlements for the Jupid app (IAM)",
  workspace: "GET /app/*: stub workspace",
};

/** `JUPID_SETTINGS`: the environment config without its partners (they live in the partners table). */
export function gatewaySettings(config: EnvironmentConfig): GatewaySettings {
  return {
    environment: config.environment,
    appUrl: config.appUrl,
    workspaceBasePath: config.workspaceBasePath,
    sessionLifetimeSeconds: config.sessionLifetimeSeconds,
    keyRotationOverlapSeconds: config.keyRotationOverlapSeconds,
    cacheSeconds: config.cacheSeconds,
  };
}

export interface FunctionsProps {
  readonly config: EnvironmentConfig;
  readonly tables: Readonly<Record<TableName, dynamodb.ITable>>;
  readonly secrets: PartnerSecrets;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * One function per handler of lambdas/handlers/routes.ts, each with every
 * `JUPID_*` variable (the adapters require all of them at cold start) but
 * only the grants of {@link FUNCTION_ACCESS}.
 */
export class Functions extends Construct {
  readonly functions: Readonly<Record<HandlerName, EmbedFunction>>;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const environment: Record<string, string> = {
      JUPID_SETTINGS: JSON.stringify(gatewaySettings(props.config)),
      JUPID_SECRET_PREFIX: props.secrets.prefix,
    };
    for (const name of TABLE_NAMES) environment[tableEnvName(name)] = props.tables[name].tableName;

    const functions = {} as Record<HandlerName, EmbedFunction>;
    for (const name of HANDLER_NAMES) {
      const fn = new EmbedFunction(this, name, {
        entry: `lambdas/handlers/${name}.ts`,
        description: DESCRIPTIONS[name],
        environment,
        logRetention: props.logRetention,
        logRemovalPolicy: props.logRemovalPolicy,
        invokedBy: "api-gateway",
      });
      const access = FUNCTION_ACCESS[name];
      for (const [table, actions] of Object.entries(access.tables) as [TableName, readonly string[]][]) {
        props.tables[table].grant(fn.role, ...actions);
      }
      if (access.partnerKeys) props.secrets.grantRead(fn.role);
      functions[name] = fn;
    }
    this.functions = functions;
  }

  /** The Lambda functions by handler name. */
  lambdas(): Record<HandlerName, lambda.IFunction> {
    const result = {} as Record<HandlerName, lambda.IFunction>;
    for (const name of HANDLER_NAMES) result[name] = this.functions[name].function;
    return result;
  }
}
