/**
 * The CDK app: one {@link EmbedStack} per deployed environment, each built
 * from `config/partners.<env>.json`. bin/app.ts calls this with the context
 * of the CLI; tests call it with explicit options.
 */
import { join, resolve } from "node:path";
import { type App, type Environment, Token, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import { type EnvironmentConfig, loadEnvironmentConfig, partnersFile } from "../config/schema.ts";
import { type CloudFrontQuotas, DEFAULT_CLOUDFRONT_QUOTAS, checkCloudFrontQuotas, cloudFrontUsage } from "./constructs/cdn.ts";
import { CLOUDFRONT_WAF_REGION } from "./constructs/waf.ts";
import { PROJECT_ROOT } from "./paths.ts";
import { EmbedStack } from "./stacks/embed-stack.ts";

/** Environments with a stack. `local` is served by the local gateway (`npm start`) and never deployed. */
export const DEPLOYED_ENVIRONMENTS = ["staging", "production", "integration"] as const;
export type DeployedEnvironment = (typeof DEPLOYED_ENVIRONMENTS)[number];

export const DEFAULT_SDK_DIST_DIR = join(PROJECT_ROOT, "sdk", "dist");

export function stackIdOf(environment: DeployedEnvironment): string {
  return `JupidEmbed-${environment}`;
}

export function isDeployedEnvironment(value: string): value is DeployedEnvironment {
  return (DEPLOYED_ENVIRONMENTS as readonly string[]).includes(value);
}

export interface EmbedAppOptions {
  /** Which stacks to define. @default all of DEPLOYED_ENVIRONMENTS */
  readonly environments?: readonly DeployedEnvironment[];
  /** Emulator deploy (see EmbedStackProps.emulator). @default false */
  readonly emulator?: boolean;
  /** @default sdk/dist */
  readonly sdkDistDir?: string;
  /** @default DEFAULT_CLOUDFRONT_QUOTAS */
  readonly cloudFrontQuotas?: CloudFrontQuotas;
  /** Configs to use instead of reading config/partners.<env>.json (tests). */
  readonly configs?: Partial<Readonly<Record<DeployedEnvironment, EnvironmentConfig>>>;
  /** `process.env` for CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION. */
  readonly processEnv?: Readonly<Record<string, string | undefined>>;
}

/**
 * Account and region of a stack: the config's `aws` block, else the CLI's
 * defaults (CDK_DEFAULT_ACCOUNT/REGION), else environment-agnostic, which
 * keeps `cdk synth` working offline without credentials.
 *
 * Production holds a CLOUDFRONT-scoped WAF WebACL, which AWS only creates in
 * us-east-1, so production's region defaults to us-east-1 rather than to the
 * CLI's region (and the WAF construct rejects any other).
 */
export function stackEnvOf(
  config: EnvironmentConfig,
  processEnv: Readonly<Record<string, string | undefined>> = process.env,
): Environment {
  const account = config.aws?.account ?? processEnv.CDK_DEFAULT_ACCOUNT;
  const region =
    config.aws?.region ?? (config.environment === "production" ? CLOUDFRONT_WAF_REGION : processEnv.CDK_DEFAULT_REGION);
  return { ...(account ? { account } : {}), ...(region ? { region } : {}) };
}

/**
 * Options from CLI context: `-c env=<env>`, `-c emulator=true`, `-c sdkDist=<dir>`, CloudFront quota overrides,
 * and `-c partnersFile=<file>` (with `-c env=`): that partner file instead of config/partners.<env>.json
 * (the integration tests deploy a modified copy to prove that a config change plus a deploy adds a partner).
 */
export function optionsFromContext(app: App): EmbedAppOptions {
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === null ? undefined : String(value);
  };
  const env = context("env");
  if (env !== undefined && !isDeployedEnvironment(env)) {
    throw new Error(
      `-c env=${env}: not a deployed environment; use one of ${DEPLOYED_ENVIRONMENTS.join(", ")} (local runs with \`npm start\`)`,
    );
  }
  const quota = (key: string, fallback: number): number => {
    const value = context(key);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`-c ${key}=${value}: expected a positive integer`);
    return n;
  };
  const sdkDist = context("sdkDist");
  const partnersFileOverride = context("partnersFile");
  if (partnersFileOverride !== undefined && env === undefined) {
    throw new Error(`-c partnersFile=${partnersFileOverride}: also name the environment it is for with -c env=<env>`);
  }
  return {
    ...(env ? { environments: [env] } : {}),
    ...(env && partnersFileOverride
      ? { configs: { [env]: loadEnvironmentConfig(resolve(process.cwd(), partnersFileOverride)) } }
      : {}),
    emulator: context("emulator") === "true",
    ...(sdkDist ? { sdkDistDir: resolve(process.cwd(), sdkDist) } : {}),
    cloudFrontQuotas: {
      cacheBehaviorsPerDistribution: quota("cloudfrontMaxCacheBehaviors", DEFAULT_CLOUDFRONT_QUOTAS.cacheBehaviorsPerDistribution),
      responseHeadersPoliciesPerAccount: quota(
        "cloudfrontMaxResponseHeadersPolicies",
        DEFAULT_CLOUDFRONT_QUOTAS.responseHeadersPoliciesPerAccount,
      ),
    },
  };
}

/** Define the stacks. Throws ConfigError (naming file and field) for an invalid partner file. */
export function addEmbedStacks(app: App, options: EmbedAppOptions = {}): EmbedStack[] {
  const environments = options.environments ?? DEPLOYED_ENVIRONMENTS;
  const quotas = options.cloudFrontQuotas ?? DEFAULT_CLOUDFRONT_QUOTAS;
  const stacks = environments.map((environment) => {
    const config = options.configs?.[environment] ?? loadEnvironmentConfig(partnersFile(environment));
    if (config.environment !== environment) {
      throw new Error(`the partner file for ${stackIdOf(environment)} says "environment": "${config.environment}", expected "${environment}"`);
    }
    return new EmbedStack(app, stackIdOf(environment), {
      env: stackEnvOf(config, options.processEnv),
      config,
      emulator: options.emulator ?? false,
      sdkDistDir: options.sdkDistDir ?? DEFAULT_SDK_DIST_DIR,
      cloudFrontQuotas: quotas,
      terminationProtection: environment === "production",
    });
  });
  checkSharedAccountQuotas(stacks, quotas);
  return stacks;
}

/** Response headers policies are an account-wide quota: add up the stacks that share a (known) account. */
function checkSharedAccountQuotas(stacks: readonly EmbedStack[], quotas: CloudFrontQuotas): void {
  const byAccount = new Map<string, EmbedStack[]>();
  for (const stack of stacks) {
    if (!stack.cdn || Token.isUnresolved(stack.account)) continue;
    byAccount.set(stack.account, [...(byAccount.get(stack.account) ?? []), stack]);
  }
  for (const [account, group] of byAccount) {
    group.forEach((stack, index) => {
      const others = group
        .filter((_, other) => other !== index)
        .reduce((total, other) => total + cloudFrontUsage(other.config.partners.length).responseHeadersPolicies, 0);
      checkCloudFrontQuotas(`${stack.stackName} (account ${account})`, stack.config.partners.length, quotas, others);
    });
  }
}

/** cdk-nag: AWS Solutions and Serverless rule packs; violations fail synth, acknowledgements carry reasons in code. */
export function applyNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}
