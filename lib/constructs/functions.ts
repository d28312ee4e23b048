import type { RemovalPolicy } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { EnvironmentConfig } from "../../config/schema.ts";
import type { GatewaySettings } from "../../lambdas/core/settings.ts";
import { HANDLER_NAMES, type HandlerName } from "../../lambdas/handlers/routes.ts";
import { TABLE_NAMES, TABLE_SPECS, type TableName, tableEnvName } from "./data.ts";
import { EmbedFunction } from "./embed-function.ts";
import type { PartnerSecrets } from "./partner-secrets.ts";

const GET = "dynamodb:GetItem";
const PUT = "dynamodb:PutItem";
const UPDATE = "dynamodb:UpdateItem";
const DELETE = "dynamodb:DeleteItem";
const QUERY = "dynamodb:Query";

/** What one handler may do: DynamoDB actions per table, and whether it reads partner keys. */
export interface FunctionAccess {
  readonly tables: Partial<Readonly<Record<TableName, readonly string[]>>>;
  readonly partnerKeys: boolean;
  /** Reads partners' OIDC client secrets (`<prefix><partnerId>/oidc-client`, created by the operator CLI). */
  readonly oidcClientSecrets?: boolean;
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
  embeddable: { tables: { partners: [GET] }, partnerKeys: false },
  session: {
    // POST signs in; GET reads the frame session (touching it, spending the proof's jti); DELETE signs out.
    tables: { partners: [GET], identities: [GET, PUT, UPDATE], replay: [PUT], sessions: [GET, PUT, UPDATE, DELETE] },
    partnerKeys: true,
  },
  enter: {
    // GET/DELETE on sessions: the browser's live session is read (would a sign-in replace another user's?) and ended when replaced.
    tables: { partners: [GET], identities: [GET, PUT, UPDATE], replay: [PUT], sessions: [GET, PUT, DELETE] },
    partnerKeys: true,
  },
  oidc: {
    // callback signs in (nonce single use, identity, session); back-channel logout queries the byUser index and deletes.
    tables: { partners: [GET], identities: [GET, PUT, UPDATE], replay: [PUT], sessions: [PUT, QUERY, DELETE] },
    partnerKeys: false,
    oidcClientSecrets: true,
  },
  internal: {
    // Resolving a frame session spends its DPoP proof's jti and touches the session.
    tables: { partners: [GET], identities: [GET], replay: [PUT], sessions: [GET, UPDATE], usage: [GET, UPDATE] },
    partnerKeys: false,
  },
  workspace: { tables: { partners: [GET], identities: [GET], sessions: [GET, UPDATE] }, partnerKeys: false },
};

const DESCRIPTIONS: Readonly<Record<HandlerName, string>> = {
  health: "GET /healthz",
  "embed-page": "GET /embed/{partnerId}: iframe bootstrap page",
  embeddable: "GET /embed/{partnerId}/embeddable: public diagnostics (partner known, origin allowed)",
  session: "GET|POST|DELETE /embed/{partnerId}/session: frame sign-in (DPoP), session view, sign-out",
  enter: "GET|POST /partner/{partnerId}/enter: redirect integration",
  oidc: "/partner/{partnerId}/oidc/*: OpenID Connect login, callback and back-channel logout",
  internal: "/internal/*: session resolution, usage and entitlements for the Jupid app (IAM)",
  workspace: "GET /embed/{partnerId}/app/* and /app/*: stub workspace (framed shell, top-level page)",
};

/** `JUPID_SETTINGS`: the environment config without its partners (they live in the partners table). */
export function gatewaySettings(config: EnvironmentConfig): GatewaySettings {
  return {
    environment: config.environment,
    appUrl: config.appUrl,
    workspaceBasePath: config.workspaceBasePath,
    sessionLifetimeSeconds: config.sessionLifetimeSeconds,
    sessionIdleTimeoutSeconds: config.sessionIdleTimeoutSeconds,
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
        // Named ARNs instead of Table.grant, which adds `<table>/index/*` to every grant once a table has an index.
        const { tableArn } = props.tables[table];
        const itemActions = actions.filter((action) => action !== QUERY);
        if (itemActions.length > 0) iam.Grant.addToPrincipal({ grantee: fn.role, actions: itemActions, resourceArns: [tableArn] });
        const index = TABLE_SPECS[table].index;
        if (actions.includes(QUERY) && index) {
          iam.Grant.addToPrincipal({ grantee: fn.role, actions: [QUERY], resourceArns: [`${tableArn}/index/${index.name}`] });
        }
      }
      if (access.partnerKeys) props.secrets.grantRead(fn.role);
      if (access.oidcClientSecrets) props.secrets.grantReadOidcClientSecrets(fn.role, props.config.partners);
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
