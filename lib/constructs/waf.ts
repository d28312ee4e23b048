import { ArnFormat, CfnRule, Fn, type RemovalPolicy, Stack, Token } from "aws-cdk-lib";
import * as logs from "aws-cdk-lib/aws-logs";
import * as wafv2 from "aws-cdk-lib/aws-wafv2";
import { Construct } from "constructs";

/** CLOUDFRONT-scoped WAF resources exist only in us-east-1. */
export const CLOUDFRONT_WAF_REGION = "us-east-1";

/** URI paths of the token sign-in routes, as WAF regular expressions (API paths, no stage prefix). */
export const SESSION_PATH_REGEX = "^/embed/[^/]+/session/?$";
export const ENTER_PATH_REGEX = "^/partner/[^/]+/enter/?$";
/** OIDC initiation and callback (not the provider's back channel, which comes from its servers). */
export const OIDC_PATH_REGEX = "^/partner/[^/]+/oidc/(login|callback)/?$";

export interface EdgeWafProps {
  /** `production`, `staging`…: names the WebACL, its metrics and its log group. */
  readonly environment: string;
  /** Requests per client IP per 5 minutes to each sign-in route before WAF answers 429. */
  readonly signInRequestsPer5Minutes: number;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * The CloudFront WebACL (production): AWS IP-reputation and known-bad-input
 * rule groups, and a per-IP rate limit on each token sign-in route
 * (`/embed/<id>/session`, `/partner/<id>/enter`) that answers 429. Requests
 * are logged to `aws-waf-logs-jupid-embed-<env>` with the query string,
 * cookies and authorization header redacted (tokens and session ids).
 *
 * A CLOUDFRONT-scoped WebACL can only be created in us-east-1, so the stack
 * that holds it must be deployed there: a synth-time error when the stack's
 * region is known to be elsewhere, a CloudFormation rule (the deploy fails
 * before creating anything) when the stack is region-agnostic.
 */
export class EdgeWaf extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: EdgeWafProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.region)) {
      new CfnRule(this, "RegionIsUsEast1", {
        assertions: [
          {
            assert: Fn.conditionEquals(stack.region, CLOUDFRONT_WAF_REGION),
            assertDescription: `${stack.stackName} holds a CLOUDFRONT-scoped WAF WebACL and must be deployed to ${CLOUDFRONT_WAF_REGION}`,
          },
        ],
      });
    } else if (stack.region !== CLOUDFRONT_WAF_REGION) {
      throw new Error(
        `${stack.stackName}: the CloudFront WAF WebACL must be created in ${CLOUDFRONT_WAF_REGION}, but the stack's region is ${stack.region}. ` +
          `Deploy this environment to ${CLOUDFRONT_WAF_REGION} (config "aws": {"region": "${CLOUDFRONT_WAF_REGION}"}); see the README (Deploying) for the cross-region alternative.`,
      );
    }

    const name = `jupid-embed-${props.environment}`;
    const visibility = (metric: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `${name}-${metric}`,
    });
    const managed = (priority: number, group: string): wafv2.CfnWebACL.RuleProperty => ({
      name: `aws-${group}`,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: "AWS", name: group } },
      visibilityConfig: visibility(group),
    });
    const rateLimit = (priority: number, ruleName: string, regex: string): wafv2.CfnWebACL.RuleProperty => ({
      name: ruleName,
      priority,
      action: { block: { customResponse: { responseCode: 429 } } },
      statement: {
        rateBasedStatement: {
          aggregateKeyType: "IP",
          limit: props.signInRequestsPer5Minutes,
          evaluationWindowSec: 300,
          scopeDownStatement: {
            regexMatchStatement: {
              fieldToMatch: { uriPath: {} },
              regexString: regex,
              textTransformations: [{ priority: 0, type: "NONE" }],
            },
          },
        },
      },
      visibilityConfig: visibility(ruleName),
    });

    this.webAcl = new wafv2.CfnWebACL(this, "WebAcl", {
      name,
      description: `Jupid Embed ${props.environment}: CloudFront`,
      scope: "CLOUDFRONT",
      defaultAction: { allow: {} },
      visibilityConfig: visibility("web-acl"),
      rules: [
        managed(0, "AWSManagedRulesAmazonIpReputationList"),
        managed(1, "AWSManagedRulesKnownBadInputsRuleSet"),
        rateLimit(10, "rate-limit-session", SESSION_PATH_REGEX),
        rateLimit(11, "rate-limit-enter", ENTER_PATH_REGEX),
        rateLimit(12, "rate-limit-oidc", OIDC_PATH_REGEX),
      ],
    });

    // WAF requires the `aws-waf-logs-` prefix and the ARN without the trailing `:*`.
    const logGroupName = `aws-waf-logs-${name}`;
    this.logGroup = new logs.LogGroup(this, "Logs", {
      logGroupName,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    const logging = new wafv2.CfnLoggingConfiguration(this, "Logging", {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [
        stack.formatArn({
          service: "logs",
          resource: "log-group",
          resourceName: logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      redactedFields: [{ queryString: {} }, { singleHeader: { Name: "cookie" } }, { singleHeader: { Name: "authorization" } }],
    });
    logging.node.addDependency(this.logGroup);
  }
}
