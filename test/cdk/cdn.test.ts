import { readFileSync } from "node:fs";
import { Template } from "aws-cdk-lib/assertions";
import type { Construct } from "constructs";
import { beforeAll, describe, expect, it } from "vitest";
import { type EnvironmentConfig, parseEnvironmentConfig, partnersFile } from "../../config/schema.ts";
import { embedPageCsp } from "../../lambdas/http/csp.ts";
import { HSTS_MAX_AGE_SECONDS, PERMISSIONS_POLICY } from "../../lambdas/http/responses.ts";
import {
  API_PATH_PATTERNS,
  checkCloudFrontQuotas,
  cloudFrontUsage,
  DEFAULT_CLOUDFRONT_QUOTAS,
  SDK_PATH_PATTERNS,
} from "../../lib/constructs/cdn.ts";
import { partnerInput } from "../fixtures/partners.ts";
import { configOf, logicalId, newTestApp, SDK_FIXTURE_DIR, type Synthesized, synthEnvironment, TEST_PROCESS_ENV, SYNTH_TIMEOUT } from "./support.ts";
import { addEmbedStacks } from "../../lib/app.ts";

type Behavior = Record<string, unknown> & { PathPattern?: string; TargetOriginId: string };

function distributionConfig(synth: Synthesized) {
  const distributions = synth.template.findResources("AWS::CloudFront::Distribution");
  const [distribution] = Object.values(distributions);
  return distribution?.Properties.DistributionConfig as {
    CacheBehaviors: Behavior[];
    DefaultCacheBehavior: Behavior;
    Origins: Array<Record<string, unknown> & { Id: string }>;
    WebACLId?: unknown;
  };
}

/** The staging config with `partners` (and optional overrides), validated through the real schema. */
function stagingWith(partnerCount: number, overrides: Record<string, unknown> = {}): EnvironmentConfig {
  const raw = JSON.parse(readFileSync(partnersFile("staging"), "utf8")) as Record<string, unknown>;
  const partners = Array.from({ length: partnerCount }, (_, index) => partnerInput(`partner-${index}`));
  return parseEnvironmentConfig({ ...raw, partners, ...overrides }, "test staging config");
}

function synthStaging(config: EnvironmentConfig, options: Parameters<typeof addEmbedStacks>[1] = {}) {
  const app = newTestApp();
  return addEmbedStacks(app, {
    environments: ["staging"],
    sdkDistDir: SDK_FIXTURE_DIR,
    processEnv: TEST_PROCESS_ENV,
    configs: { staging: config },
    ...options,
  });
}

describe("cdn: CloudFront", () => {
  const synthesized = {} as Record<"staging" | "production" | "integration", Synthesized>;
  beforeAll(() => {
    for (const environment of ["staging", "production", "integration"] as const) {
      synthesized[environment] = synthEnvironment(environment);
    }
  }, SYNTH_TIMEOUT);

  it.each(["staging", "production", "integration"] as const)(
    "%s: one embed-page behaviour per partner whose CSP is embedPageCsp(partner origins)",
    (environment) => {
      const synth = synthesized[environment];
      const config = configOf(environment);
      const behaviors = distributionConfig(synth).CacheBehaviors;
      const policies = synth.template.findResources("AWS::CloudFront::ResponseHeadersPolicy");
      for (const partner of config.partners) {
        const behavior = behaviors.find((candidate) => candidate.PathPattern === `/embed/${partner.id}`);
        expect(behavior, partner.id).toBeDefined();
        const policyId = (behavior?.ResponseHeadersPolicyId as { Ref: string } | undefined)?.Ref ?? "";
        const csp = policies[policyId]?.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy;
        expect(csp).toEqual({ ContentSecurityPolicy: embedPageCsp(partner.allowedOrigins), Override: true });
        expect(csp.ContentSecurityPolicy).toContain(`frame-ancestors ${partner.allowedOrigins.join(" ")}`);
      }
      expect(Object.keys(policies)).toHaveLength(cloudFrontUsage(config.partners.length).responseHeadersPolicies);
    },
  );

  it("behaviours: partner pages first, SDK from S3, the rest through the API, default to the API (stub workspace)", () => {
    const synth = synthesized.staging;
    const config = distributionConfig(synth);
    const origins = Object.fromEntries(config.Origins.map((origin) => [origin.Id, origin]));
    const kind = (behavior: Behavior) => (origins[behavior.TargetOriginId]?.S3OriginConfig ? "s3" : "api");
    const partnerIds = configOf("staging").partners.map((partner) => partner.id);
    expect(config.CacheBehaviors.map((behavior) => [behavior.PathPattern, kind(behavior)])).toEqual([
      ...partnerIds.map((id) => [`/embed/${id}`, "api"]),
      ...SDK_PATH_PATTERNS.map((pattern) => [pattern, "s3"]),
      ...API_PATH_PATTERNS.map((pattern) => [pattern, "api"]),
    ]);
    expect(kind(config.DefaultCacheBehavior)).toBe("api");
    const CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
    const ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
    for (const behavior of [...config.CacheBehaviors, config.DefaultCacheBehavior]) {
      expect(behavior.ViewerProtocolPolicy).toBe("redirect-to-https");
      if (kind(behavior) === "api") {
        expect(behavior.CachePolicyId).toBe(CACHING_DISABLED);
        expect(behavior.OriginRequestPolicyId).toBe(ALL_VIEWER_EXCEPT_HOST);
        expect(behavior.AllowedMethods).toContain("POST");
      } else {
        expect(behavior.AllowedMethods).toEqual(["GET", "HEAD"]);
      }
    }
    const apiOrigin = config.Origins.find((origin) => !origin.S3OriginConfig);
    expect(JSON.stringify(apiOrigin?.OriginPath)).toContain(logicalId(synth.stack.api.restApi.deploymentStage));
  });

  it("the SDK bucket is private and read by CloudFront only through Origin Access Control", () => {
    const synth = synthesized.staging;
    synth.template.resourceCountIs("AWS::CloudFront::OriginAccessControl", 1);
    synth.template.hasResourceProperties("AWS::CloudFront::OriginAccessControl", {
      OriginAccessControlConfig: { OriginAccessControlOriginType: "s3", SigningBehavior: "always", SigningProtocol: "sigv4" },
    });
    synth.template.resourceCountIs("AWS::CloudFront::CloudFrontOriginAccessIdentity", 0);
    synth.template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    const s3Origin = distributionConfig(synth).Origins.find((origin) => origin.S3OriginConfig);
    expect(s3Origin?.OriginAccessControlId).toBeDefined();
    expect(s3Origin?.S3OriginConfig).toEqual({ OriginAccessIdentity: "" });
    const policy = JSON.stringify(synth.template.findResources("AWS::S3::BucketPolicy"));
    expect(policy).toContain('"Service":"cloudfront.amazonaws.com"');
    expect(policy).toContain("AWS:SourceArn");
    expect(policy).toContain("aws:SecureTransport");
  });

  it("the security-headers policy sets HSTS and nosniff, and no CSP or frame options (the workspace is framed)", () => {
    const synth = synthesized.staging;
    const policies = synth.template.findResources("AWS::CloudFront::ResponseHeadersPolicy");
    const security = policies[logicalId(synth.stack.cdn?.node.findChild("SecurityHeaders") as Construct)];
    const headers = security?.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(headers.ContentSecurityPolicy).toBeUndefined();
    expect(headers.FrameOptions).toBeUndefined();
    expect(headers.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true });
    expect(headers.ContentTypeOptions).toEqual({ Override: true });
    expect(headers.ReferrerPolicy).toEqual({ ReferrerPolicy: "no-referrer", Override: false });
  });

  it("every response headers policy sends HSTS with includeSubDomains and the Lambdas' Permissions-Policy (issue 12)", () => {
    const policies = Object.values(synthesized.staging.template.findResources("AWS::CloudFront::ResponseHeadersPolicy"));
    expect(policies.length).toBeGreaterThan(1);
    for (const policy of policies) {
      const config = policy.Properties.ResponseHeadersPolicyConfig;
      expect(config.SecurityHeadersConfig.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: HSTS_MAX_AGE_SECONDS, IncludeSubdomains: true });
      expect(config.CustomHeadersConfig.Items).toContainEqual({ Header: "Permissions-Policy", Value: PERMISSIONS_POLICY, Override: true });
    }
  });

  it("uploads the built SDK to /embed.js and /sdk/v1/embed.js; objects go with the stack outside production", () => {
    const staging = synthesized.staging.template.findResources("Custom::CDKBucketDeployment");
    const production = synthesized.production.template.findResources("Custom::CDKBucketDeployment");
    for (const [deployments, retain] of [
      [staging, false],
      [production, true],
    ] as const) {
      const [deployment] = Object.values(deployments);
      expect(deployment?.Properties).toMatchObject({
        Prune: true,
        RetainOnDelete: retain,
        SystemMetadata: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=300" },
      });
      expect(deployment?.Properties.SourceObjectKeys).toHaveLength(2);
    }
    expect(Object.values(synthesized.production.template.findResources("AWS::S3::Bucket"))[0]?.DeletionPolicy).toBe("Retain");
    expect(Object.values(synthesized.staging.template.findResources("AWS::S3::Bucket"))[0]?.DeletionPolicy).toBe("Delete");
  });

  it("production: WebACL attached, all edge locations; staging: no WebACL", () => {
    expect(distributionConfig(synthesized.production).WebACLId).toEqual({
      "Fn::GetAtt": [logicalId(synthesized.production.stack.waf?.webAcl as Construct), "Arn"],
    });
    expect(distributionConfig(synthesized.staging).WebACLId).toBeUndefined();
  });

  it("a configured workspaceOrigin becomes the default behaviour (https only)", () => {
    const [stack] = synthStaging(stagingWith(1, { workspaceOrigin: "https://app.internal.example:8443/base" }));
    if (!stack) throw new Error("no stack");
    const config = Template.fromStack(stack).findResources("AWS::CloudFront::Distribution");
    const distribution = Object.values(config)[0]?.Properties.DistributionConfig;
    const origin = distribution.Origins.find((o: { Id: string }) => o.Id === distribution.DefaultCacheBehavior.TargetOriginId);
    const json = JSON.stringify(origin);
    expect(json).toContain('"DomainName":"app.internal.example"');
    expect(json).toContain('"HTTPSPort":8443');
    expect(json).toContain('"OriginPath":"/base"');
    expect(() => synthStaging(stagingWith(1, { workspaceOrigin: "http://app.internal.example" }))).toThrow(
      /workspaceOrigin "http:\/\/app.internal.example" must be https/,
    );
  });
});

describe("cdn: CloudFront quotas", () => {
  const fixed = 1 + SDK_PATH_PATTERNS.length + API_PATH_PATTERNS.length;
  const maxPartners = DEFAULT_CLOUDFRONT_QUOTAS.cacheBehaviorsPerDistribution - fixed;

  it("the arithmetic: default + 7 fixed behaviours + 1 per partner; 1 + 1 per partner policies", () => {
    expect(fixed).toBe(8);
    expect(cloudFrontUsage(3)).toEqual({ cacheBehaviors: 11, responseHeadersPolicies: 4 });
    expect(maxPartners).toBe(17);
    expect(() => checkCloudFrontQuotas("x", maxPartners)).not.toThrow();
    expect(() => checkCloudFrontQuotas("x", maxPartners + 1)).toThrow(
      "26 cache behaviours (1 default + 7 fixed + 18 partner embed pages) exceed the 25 per distribution; at most 17 partners fit",
    );
    expect(() => checkCloudFrontQuotas("x", 19, { cacheBehaviorsPerDistribution: 100, responseHeadersPoliciesPerAccount: 20 })).not.toThrow();
    expect(() => checkCloudFrontQuotas("x", 20, { cacheBehaviorsPerDistribution: 100, responseHeadersPoliciesPerAccount: 20 })).toThrow(
      "21 response headers policies (1 security-headers + 20 partner CSP) exceed the 20 per account; at most 19 partners fit",
    );
  });

  it("synth fails with a clear message when the config has too many partners", () => {
    expect(() => synthStaging(stagingWith(maxPartners))).not.toThrow();
    expect(() => synthStaging(stagingWith(maxPartners + 1))).toThrow(
      /JupidEmbed-staging\/Cdn: too many partners for CloudFront's quotas:[\s\S]*at most 17 partners fit[\s\S]*cloudfrontMaxCacheBehaviors/,
    );
    // A raised quota (after a Service Quotas increase) is honoured.
    expect(() =>
      synthStaging(stagingWith(maxPartners + 1), {
        cloudFrontQuotas: { cacheBehaviorsPerDistribution: 30, responseHeadersPoliciesPerAccount: 20 },
      }),
    ).not.toThrow();
  });

  it("response headers policies are counted across the stacks that share an account", () => {
    const app = newTestApp();
    const shared = { aws: { account: "111111111111" } };
    const staging = stagingWith(10, shared);
    const production = parseEnvironmentConfig(
      {
        ...JSON.parse(readFileSync(partnersFile("production"), "utf8")),
        ...shared,
        partners: Array.from({ length: 10 }, (_, index) =>
          partnerInput(`partner-${index}`, { allowedOrigins: ["https://partner.example"] }),
        ),
      },
      "test production config",
    );
    expect(() =>
      addEmbedStacks(app, {
        environments: ["staging", "production"],
        sdkDistDir: SDK_FIXTURE_DIR,
        configs: { staging, production },
      }),
    ).toThrow(/22 response headers policies \(1 security-headers \+ 10 partner CSP \+ 11 of other stacks in this account\)/);
  });

  it("an embed-page CSP longer than CloudFront allows is a synth error naming the partner", () => {
    const origins = Array.from({ length: 20 }, (_, index) => `https://a-very-long-partner-subdomain-number-${index}.a-partner-with-a-rather-long-domain-name.example`);
    const raw = JSON.parse(readFileSync(partnersFile("staging"), "utf8")) as Record<string, unknown>;
    const config = parseEnvironmentConfig(
      { ...raw, partners: [partnerInput("wide", { allowedOrigins: origins })] },
      "test staging config",
    );
    expect(() => synthStaging(config)).toThrow(/partner "wide": its embed-page Content-Security-Policy is \d+ characters, CloudFront allows 1783/);
  });
});
