import { Duration } from "aws-cdk-lib";
import type * as apigateway from "aws-cdk-lib/aws-apigateway";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";

export interface AlarmThresholds {
  /** API 5xx responses per 5 minutes. @default 5 */
  readonly api5xxPer5Minutes?: number;
  /** API 4xx responses per 5 minutes (failed sign-ins, throttling, probing). @default 200 */
  readonly api4xxPer5Minutes?: number;
  /** Lambda throttles (all functions) per 5 minutes. @default 1 */
  readonly lambdaThrottlesPer5Minutes?: number;
  /** Lambda errors (all functions) per 5 minutes. @default 5 */
  readonly lambdaErrorsPer5Minutes?: number;
}

export interface AlarmsProps {
  readonly environment: string;
  readonly api: apigateway.RestApi;
  readonly functions: readonly lambda.IFunction[];
  readonly thresholds?: AlarmThresholds;
}

const PERIOD = Duration.minutes(5);

/**
 * CloudWatch alarms for an environment, all notifying one SNS topic
 * (encrypted with a customer-managed key CloudWatch may use; subscribe the
 * on-call address to the `AlarmTopicArn` output):
 * - API 5xx: the gateway or a handler is failing;
 * - API 4xx spike: failed sign-ins (bad or replayed tokens, wrong origins),
 *   throttling or probing, above the normal rate;
 * - Lambda throttles: concurrency is exhausted and requests are dropped;
 * - Lambda errors: unhandled failures (timeouts, crashes).
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const thresholds = props.thresholds ?? {};

    const key = new kms.Key(this, "TopicKey", {
      description: `Jupid Embed ${props.environment} alarm topic`,
      enableKeyRotation: true,
    });
    // CloudWatch publishes to an encrypted topic only when the key lets it.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      }),
    );
    this.topic = new sns.Topic(this, "Topic", {
      displayName: `Jupid Embed ${props.environment} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    const notify = new actions.SnsAction(this.topic);

    const sum = (metrics: cloudwatch.IMetric[], label: string): cloudwatch.IMetric =>
      new cloudwatch.MathExpression({
        expression: metrics.map((_, index) => `m${index}`).join(" + "),
        usingMetrics: Object.fromEntries(metrics.map((metric, index) => [`m${index}`, metric])),
        label,
        period: PERIOD,
      });

    const specs: Array<{ id: string; description: string; metric: cloudwatch.IMetric; threshold: number }> = [
      {
        id: "Api5xx",
        description: "API Gateway 5xx responses: the gateway or a handler is failing",
        metric: props.api.metricServerError({ period: PERIOD, statistic: "Sum" }),
        threshold: thresholds.api5xxPer5Minutes ?? 5,
      },
      {
        id: "Api4xxSpike",
        description: "API Gateway 4xx spike: failed sign-ins (invalid/replayed tokens, origins), throttling or probing",
        metric: props.api.metricClientError({ period: PERIOD, statistic: "Sum" }),
        threshold: thresholds.api4xxPer5Minutes ?? 200,
      },
      {
        id: "LambdaThrottles",
        description: "Lambda throttles: concurrency exhausted, requests rejected",
        metric: sum(
          props.functions.map((fn) => fn.metricThrottles({ period: PERIOD, statistic: "Sum" })),
          "Throttles (all functions)",
        ),
        threshold: thresholds.lambdaThrottlesPer5Minutes ?? 1,
      },
      {
        id: "LambdaErrors",
        description: "Lambda errors: unhandled failures or timeouts",
        metric: sum(
          props.functions.map((fn) => fn.metricErrors({ period: PERIOD, statistic: "Sum" })),
          "Errors (all functions)",
        ),
        threshold: thresholds.lambdaErrorsPer5Minutes ?? 5,
      },
    ];

    this.alarms = specs.map((spec) => {
      const alarm = new cloudwatch.Alarm(this, spec.id, {
        alarmDescription: `Jupid Embed ${props.environment}: ${spec.description}`,
        metric: spec.metric,
        threshold: spec.threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
      return alarm;
    });
  }
}
