import { App, RemovalPolicy, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { beforeAll, describe, expect, it } from "vitest";
import { HANDLER_NAMES } from "../../lambdas/handlers/routes.ts";
import { EdgeWaf, ENTER_PATH_REGEX, OIDC_PATH_REGEX, SESSION_PATH_REGEX } from "../../lib/constructs/waf.ts";
import { logicalId, SYNTH_TIMEOUT, type Synthesized, synthEnvironment } from "./support.ts";

interface WafRule {
  readonly Action?: unknown;
  readonly Statement: {
    readonly RateBasedStatement?: Record<string, unknown> & {
      readonly ScopeDownStatement: { readonly RegexMatchStatement: { readonly RegexString: string; readonly FieldToMatch: unknown } };
    };
    readonly ManagedRuleGroupStatement?: { readonly Name: string };
  };
}

const wafProps = {
  environment: "production",
  signInRequestsPer5Minutes: 300,
  logRetention: logs.RetentionDays.ONE_YEAR,
  logRemovalPolicy: RemovalPolicy.RETAIN,
};

describe("production extras: WAF and alarms", () => {
  let production: Synthesized;
  let staging: Synthesized;
  beforeAll(() => {
    production = synthEnvironment("production");
    staging = synthEnvironment("staging");
  }, SYNTH_TIMEOUT);

  it("production is pinned to us-east-1 (CLOUDFRONT-scoped WAF); staging takes the CLI's region", () => {
    expect(production.stack.region).toBe("us-east-1");
    expect(staging.stack.region).toBe("eu-central-1");
    expect(production.stack.terminationProtection).toBe(true);
    expect(staging.stack.terminationProtection).toBe(false);
  });

  it("a CLOUDFRONT WebACL rate-limits the session, enter and OIDC sign-in routes per IP with 429", () => {
    production.template.resourceCountIs("AWS::WAFv2::WebACL", 1);
    const [acl] = Object.values(production.template.findResources("AWS::WAFv2::WebACL"));
    expect(acl?.Properties.Scope).toBe("CLOUDFRONT");
    expect(acl?.Properties.DefaultAction).toEqual({ Allow: {} });
    const rules = acl?.Properties.Rules as WafRule[];
    const rate = rules.flatMap((rule) => (rule.Statement.RateBasedStatement ? [{ ...rule.Statement.RateBasedStatement, action: rule.Action }] : []));
    expect(rate.map((statement) => statement.ScopeDownStatement.RegexMatchStatement.RegexString).sort()).toEqual(
      [ENTER_PATH_REGEX, OIDC_PATH_REGEX, SESSION_PATH_REGEX].sort(),
    );
    for (const statement of rate) {
      expect(statement).toMatchObject({ AggregateKeyType: "IP", Limit: 300, EvaluationWindowSec: 300 });
      expect(statement.ScopeDownStatement.RegexMatchStatement.FieldToMatch).toEqual({ UriPath: {} });
      expect(statement.action).toEqual({ Block: { CustomResponse: { ResponseCode: 429 } } });
    }
    expect(rules.flatMap((rule) => (rule.Statement.ManagedRuleGroupStatement ? [rule.Statement.ManagedRuleGroupStatement.Name] : []))).toEqual([
      "AWSManagedRulesAmazonIpReputationList",
      "AWSManagedRulesKnownBadInputsRuleSet",
    ]);
  });

  it("the rate-limit patterns match exactly the sign-in routes", () => {
    const session = new RegExp(SESSION_PATH_REGEX);
    const enter = new RegExp(ENTER_PATH_REGEX);
    expect(session.test("/embed/acme-books/session")).toBe(true);
    expect(session.test("/embed/acme-books/session/")).toBe(true);
    expect(session.test("/embed/acme-books")).toBe(false);
    expect(session.test("/embed/a/b/session")).toBe(false);
    expect(enter.test("/partner/globex/enter")).toBe(true);
    expect(enter.test("/partner/globex/enter/x")).toBe(false);
    const oidc = new RegExp(OIDC_PATH_REGEX);
    expect(oidc.test("/partner/globex/oidc/login")).toBe(true);
    expect(oidc.test("/partner/globex/oidc/callback")).toBe(true);
    expect(oidc.test("/partner/globex/oidc/backchannel-logout")).toBe(false);
  });

  it("WAF logs redact the query string, cookies and authorization", () => {
    production.template.hasResourceProperties("AWS::WAFv2::LoggingConfiguration", {
      RedactedFields: [{ QueryString: {} }, { SingleHeader: { Name: "cookie" } }, { SingleHeader: { Name: "authorization" } }],
    });
    production.template.hasResourceProperties("AWS::Logs::LogGroup", {
      LogGroupName: "aws-waf-logs-jupid-embed-production",
      RetentionInDays: 365,
    });
  });

  it("alarms on API 5xx, API 4xx spikes, Lambda throttles and errors, all notifying an encrypted topic", () => {
    production.template.resourceCountIs("AWS::CloudWatch::Alarm", 4);
    const topic = logicalId(production.stack.alarms?.topic as Construct);
    const alarms = Object.values(production.template.findResources("AWS::CloudWatch::Alarm")).map((alarm) => alarm.Properties);
    const byMetric = (name: string) => alarms.find((alarm) => alarm.MetricName === name);
    expect(byMetric("5XXError")).toMatchObject({ Namespace: "AWS/ApiGateway", Statistic: "Sum", Period: 300, Threshold: 5 });
    expect(byMetric("4XXError")).toMatchObject({ Namespace: "AWS/ApiGateway", Statistic: "Sum", Period: 300, Threshold: 200 });
    const math = alarms.filter((alarm) => alarm.Metrics);
    expect(math).toHaveLength(2);
    const mathMetrics = math.map((alarm) =>
      (alarm.Metrics as Array<{ MetricStat?: { Metric: { MetricName: string } } }>)
        .filter((metric) => metric.MetricStat)
        .map((metric) => metric.MetricStat?.Metric.MetricName),
    );
    // One series per API function (one per handler of the route table) for each of Throttles and Errors.
    expect(mathMetrics.map((names) => [...new Set(names)]).sort()).toEqual([["Errors"], ["Throttles"]]);
    expect(mathMetrics.every((names) => names.length === HANDLER_NAMES.length)).toBe(true);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.OKActions).toEqual([{ Ref: topic }]);
      expect(alarm.TreatMissingData).toBe("notBreaching");
    }
    const key = logicalId(production.stack.alarms?.node.findChild("TopicKey") as Construct);
    production.template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: { "Fn::GetAtt": [key, "Arn"] } });
    production.template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    production.template.hasOutput("AlarmTopicArn", {});
  });

  it("staging has neither WAF nor alarms", () => {
    staging.template.resourceCountIs("AWS::WAFv2::WebACL", 0);
    staging.template.resourceCountIs("AWS::CloudWatch::Alarm", 0);
  });

  it("the CLOUDFRONT WebACL refuses a stack outside us-east-1, and guards a region-agnostic one with a rule", () => {
    const elsewhere = new Stack(new App(), "Elsewhere", { env: { region: "eu-west-1" } });
    expect(() => new EdgeWaf(elsewhere, "Waf", wafProps)).toThrow(
      /must be created in us-east-1, but the stack's region is eu-west-1/,
    );
    const agnostic = new Stack(new App(), "Agnostic");
    new EdgeWaf(agnostic, "Waf", wafProps);
    const rules = Template.fromStack(agnostic).toJSON().Rules as Record<string, { Assertions: Array<{ Assert: unknown }> }>;
    const rule = Object.entries(rules).find(([id]) => id.startsWith("WafRegionIsUsEast1"))?.[1];
    expect(rule?.Assertions[0]?.Assert).toEqual({ "Fn::Equals": [{ Ref: "AWS::Region" }, "us-east-1"] });
  });
});
