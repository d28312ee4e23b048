import { existsSync } from "node:fs";
import { join } from "node:path";
import { Duration, type RemovalPolicy, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { LAMBDA_MODULE_ALIASES } from "../../lambdas/bundling.ts";
import { PROJECT_ROOT } from "../paths.ts";

/** The Lambda runtime of every function in the stack (the newest Node.js that aws-cdk-lib 2.276 knows). */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * Defines `require` in the ESM bundle, for the CommonJS dependencies esbuild
 * inlines (their `require("node:…")` calls need a real one at run time).
 * Single quotes only: CDK passes the banner through `bash -c`.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __jupidCreateRequire } from 'node:module';const require = __jupidCreateRequire(import.meta.url);";

export interface EmbedFunctionProps {
  /** Entry file, relative to the project root (`lambdas/handlers/<name>.ts`); it must export `handler`. */
  readonly entry: string;
  readonly description: string;
  /** Environment variables (names only ever; never a secret value). */
  readonly environment?: Readonly<Record<string, string>>;
  /** Days the function's logs are kept. */
  readonly logRetention: logs.RetentionDays;
  /** What happens to the log group when it leaves the stack. */
  readonly logRemovalPolicy: RemovalPolicy;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /**
   * Who invokes the function, for the acknowledgement of the Serverless
   * async-invocation rules (no DLQ / failure destination).
   */
  readonly invokedBy: "api-gateway" | "cloudformation";
}

/**
 * One Lambda function: a `NodejsFunction` bundled locally by esbuild (ESM,
 * minified, an external source map not loaded at run time, the AWS SDK bundled rather than taken from the
 * runtime), arm64, JSON logs into its own log group with a retention, X-Ray
 * tracing, and its own role that starts with no permissions beyond writing
 * to that log group. Grants are added by the caller, one table or secret at a
 * time.
 */
export class EmbedFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: EmbedFunctionProps) {
    super(scope, id);
    const entry = join(PROJECT_ROOT, props.entry);
    if (!existsSync(entry)) {
      throw new Error(`EmbedFunction ${this.node.path}: entry ${props.entry} does not exist (it must export \`handler\`)`);
    }

    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    // An explicit role instead of the default one, whose AWS-managed
    // AWSLambdaBasicExecutionRole allows writing to every log group.
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `${props.description} (${this.node.path})`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, "Function", {
      entry,
      handler: "handler",
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      tracing: lambda.Tracing.ACTIVE,
      // No --enable-source-maps: it costs every cold start ~7 ms (parsing the map) and buys
      // nothing, since logs carry error names, never stacks. The .map stays in the asset
      // for decoding a stack by hand (ADR 0011).
      environment: { ...props.environment },
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, "package-lock.json"),
      bundling: {
        format: OutputFormat.ESM,
        banner: ESM_REQUIRE_BANNER,
        mainFields: ["module", "main"],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle everything, the AWS SDK included: the deployed code is the
        // code that was tested, whatever SDK the runtime (or an emulator) has.
        externalModules: [],
        bundleAwsSDK: true,
        forceDockerBundling: false,
        tsconfig: join(PROJECT_ROOT, "tsconfig.json"),
        esbuildArgs: Object.fromEntries(Object.entries(LAMBDA_MODULE_ALIASES).map(([from, to]) => [`--alias:${from}`, to])),
      },
    });

    Validations.of(this).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Only X-Ray's xray:PutTraceSegments and xray:PutTelemetryRecords (added by Tracing.ACTIVE) use Resource '*': X-Ray has no resource-level permissions for them. Every table and secret grant names its ARN.",
    });
    const asyncReason =
      props.invokedBy === "api-gateway"
        ? "Invoked synchronously by API Gateway (proxy integration): the caller receives the error, there is no asynchronous event to redrive."
        : "Invoked by CloudFormation as a custom resource: the function reports failure to CloudFormation through the ResponseURL, which fails and rolls back the deploy; there is no event to redrive.";
    Validations.of(this).acknowledge({ id: "Serverless-LambdaDLQ", reason: asyncReason });
    Validations.of(this).acknowledge({ id: "Serverless-LambdaAsyncFailureDestination", reason: asyncReason });
  }
}
