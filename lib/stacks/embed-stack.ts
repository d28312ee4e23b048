import { CfnOutput, RemovalPolicy, Stack, type StackProps, Tags } from "aws-cdk-lib";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../../config/schema.ts";
import { Alarms } from "../constructs/alarms.ts";
import { API_STAGE_NAME, Api, type Throttle } from "../constructs/api.ts";
import { Cdn, type CloudFrontQuotas } from "../constructs/cdn.ts";
import { Data, TABLE_NAMES, tableEnvName } from "../constructs/data.ts";
import { Functions } from "../constructs/functions.ts";
import { PartnerRecords } from "../constructs/partner-records.ts";
import { PartnerSecrets } from "../constructs/partner-secrets.ts";
import { EdgeWaf } from "../constructs/waf.ts";

export interface EmbedStackProps extends StackProps {
  /** The validated `config/partners.<env>.json`. */
  readonly config: EnvironmentConfig;
  /**
   * Deploying into a local AWS emulator (MiniStack/LocalStack), from
   * `-c emulator=true`. Leaves out only what an emulator cannot run: the SDK
   * upload (CDK's BucketDeployment runs the AWS CLI from a Lambda layer under
   * /opt, which a local-subprocess Lambda does not have). Everything else,
   * CloudFront included, is the same template. @default false
   */
  readonly emulator?: boolean;
  /** Directory with the built SDK (`embed.js`); required unless `emulator`. */
  readonly sdkDistDir?: string;
  /** CloudFront quotas of the target account. @default DEFAULT_CLOUDFRONT_QUOTAS */
  readonly cloudFrontQuotas?: CloudFrontQuotas;
}

/** Per-environment operational settings that are not partner config. */
interface Tuning {
  readonly stageThrottle: Throttle;
  readonly signInThrottle: Throttle;
  readonly logRetention: logs.RetentionDays;
  readonly waf: boolean;
  readonly alarms: boolean;
}

function tuningOf(config: EnvironmentConfig): Tuning {
  if (config.environment === "production") {
    return {
      stageThrottle: { rateLimit: 500, burstLimit: 1000 },
      signInThrottle: { rateLimit: 100, burstLimit: 200 },
      logRetention: logs.RetentionDays.ONE_YEAR,
      waf: true,
      alarms: true,
    };
  }
  return {
    // Integration tests fire 100 concurrent sign-ins; keep headroom above that.
    stageThrottle: { rateLimit: 200, burstLimit: 400 },
    signInThrottle: { rateLimit: 100, burstLimit: 200 },
    logRetention: logs.RetentionDays.ONE_MONTH,
    waf: false,
    alarms: false,
  };
}

/**
 * Everything one environment runs: tables, partner secrets and records, the
 * functions, the API, the CloudFront distribution, and in production the WAF
 * and alarms. Instantiated once per `config/partners.<env>.json` by bin/app.ts.
 */
export class EmbedStack extends Stack {
  readonly config: EnvironmentConfig;
  readonly data: Data;
  readonly secrets: PartnerSecrets;
  readonly partnerRecords: PartnerRecords;
  readonly functions: Functions;
  readonly api: Api;
  readonly cdn?: Cdn;
  readonly waf?: EdgeWaf;
  readonly alarms?: Alarms;

  constructor(scope: Construct, id: string, props: EmbedStackProps) {
    super(scope, id, {
      description: `Jupid Embed (${props.config.environment}): partner token gateway, embed SDK, workspace entry`,
      ...props,
    });
    const { config } = props;
    this.config = config;
    const production = config.environment === "production";
    const emulator = props.emulator ?? false;
    const tuning = tuningOf(config);
    const logRemovalPolicy = production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    Tags.of(this).add("project", "jupid-embed");
    Tags.of(this).add("environment", config.environment);

    this.data = new Data(this, "Data", { production });
    this.secrets = new PartnerSecrets(this, "PartnerSecrets", {
      environment: config.environment,
      partners: config.partners,
    });
    this.partnerRecords = new PartnerRecords(this, "PartnerRecords", {
      table: this.data.tables.partners,
      partners: config.partners,
      logRetention: tuning.logRetention,
      logRemovalPolicy,
    });
    this.functions = new Functions(this, "Functions", {
      config,
      tables: this.data.tables,
      secrets: this.secrets,
      logRetention: tuning.logRetention,
      logRemovalPolicy,
    });
    // Handlers serve partners only once their records are in the table.
    for (const fn of Object.values(this.functions.functions)) fn.function.node.addDependency(this.partnerRecords.resource);

    this.api = new Api(this, "Api", {
      functions: this.functions.lambdas(),
      stageThrottle: tuning.stageThrottle,
      signInThrottle: tuning.signInThrottle,
      logRetention: tuning.logRetention,
      logRemovalPolicy,
    });

    if (tuning.waf) {
      this.waf = new EdgeWaf(this, "Waf", {
        environment: config.environment,
        signInRequestsPer5Minutes: 300,
        logRetention: tuning.logRetention,
        logRemovalPolicy,
      });
    }

    if (!emulator && !props.sdkDistDir) {
      throw new Error(`${id}: sdkDistDir is required (the built SDK the distribution serves) unless emulator is set`);
    }
    this.cdn = new Cdn(this, "Cdn", {
      config,
      api: this.api.restApi,
      ...(emulator ? {} : { sdkDistDir: props.sdkDistDir }),
      ...(this.waf ? { webAclArn: this.waf.webAcl.attrArn } : {}),
      production,
      removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      logRetention: tuning.logRetention,
      ...(props.cloudFrontQuotas ? { quotas: props.cloudFrontQuotas } : {}),
    });

    if (tuning.alarms) {
      this.alarms = new Alarms(this, "Alarms", {
        environment: config.environment,
        api: this.api.restApi,
        functions: Object.values(this.functions.lambdas()),
      });
      new CfnOutput(this, "AlarmTopicArn", {
        value: this.alarms.topic.topicArn,
        description: "Subscribe the on-call address to this topic",
      });
    }

    new CfnOutput(this, "ApiUrl", { value: this.api.restApi.url, description: "API Gateway stage URL (CloudFront is the public entry)" });
    new CfnOutput(this, "ApiId", { value: this.api.restApi.restApiId });
    new CfnOutput(this, "ApiStage", { value: API_STAGE_NAME });
    new CfnOutput(this, "InternalRoutesArn", {
      value: this.api.internalRoutesArn(),
      description: "Grant execute-api:Invoke on this to the Jupid app's role (IAM-authorised /internal/*)",
    });
    new CfnOutput(this, "DistributionDomainName", { value: this.cdn.distribution.distributionDomainName });
    new CfnOutput(this, "DistributionId", { value: this.cdn.distribution.distributionId });
    new CfnOutput(this, "SdkBucketName", { value: this.cdn.bucket.bucketName });
    new CfnOutput(this, "SecretPrefix", { value: this.secrets.prefix, description: "JUPID_SECRET_PREFIX" });
    for (const name of TABLE_NAMES) {
      new CfnOutput(this, `Table${name.charAt(0).toUpperCase()}${name.slice(1)}`, {
        value: this.data.tables[name].tableName,
        description: tableEnvName(name),
      });
    }
  }
}
