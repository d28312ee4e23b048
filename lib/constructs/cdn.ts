import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Duration, type RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import type * as apigateway from "aws-cdk-lib/aws-apigateway";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3deploy from "aws-cdk-lib/aws-s3-deployment";
import { Construct } from "constructs";
import type { EnvironmentConfig, PartnerConfig } from "../../config/schema.ts";
import { embedPageCsp } from "../../lambdas/http/csp.ts";
import { HSTS_MAX_AGE_SECONDS, PERMISSIONS_POLICY } from "../../lambdas/http/responses.ts";

/** CloudFront's default quotas that partner count eats into (both adjustable on request). */
export interface CloudFrontQuotas {
  /** Cache behaviours per distribution, counting the default behaviour. */
  readonly cacheBehaviorsPerDistribution: number;
  /** Custom response headers policies per AWS account (shared by every stack in it). */
  readonly responseHeadersPoliciesPerAccount: number;
}

export const DEFAULT_CLOUDFRONT_QUOTAS: CloudFrontQuotas = {
  cacheBehaviorsPerDistribution: 25,
  responseHeadersPoliciesPerAccount: 20,
};

/** CloudFront refuses a response headers policy whose Content-Security-Policy value is longer. */
export const MAX_CSP_LENGTH = 1783;

/** Path patterns of the fixed behaviours, in evaluation order after the per-partner ones. */
export const SDK_PATH_PATTERNS = ["/embed.js", "/sdk/*"] as const;
export const API_PATH_PATTERNS = ["/embed/*", "/partner/*", "/healthz", "/app", "/app/*"] as const;

/** Object keys of the SDK in the bucket: the unversioned URL and the major-versioned one. */
export const SDK_OBJECT_KEYS = ["embed.js", "sdk/v1/embed.js"] as const;

/** The behaviour of one partner's embed page (exact path, no wildcard). */
export function partnerEmbedPathPattern(partnerId: string): string {
  return `/embed/${partnerId}`;
}

export interface CloudFrontUsage {
  readonly cacheBehaviors: number;
  readonly responseHeadersPolicies: number;
}

/** What one environment's distribution needs: default + fixed + one behaviour and one policy per partner. */
export function cloudFrontUsage(partnerCount: number): CloudFrontUsage {
  return {
    cacheBehaviors: 1 + SDK_PATH_PATTERNS.length + API_PATH_PATTERNS.length + partnerCount,
    // The security-headers policy plus one CSP policy per partner (the SDK behaviours use a managed policy).
    responseHeadersPolicies: 1 + partnerCount,
  };
}

/**
 * Throws, at synth, when `partnerCount` partners would not fit CloudFront's
 * quotas; the message gives the arithmetic and the largest count that fits.
 * `otherPolicies` are custom response headers policies of other stacks in
 * the same account.
 */
export function checkCloudFrontQuotas(
  where: string,
  partnerCount: number,
  quotas: CloudFrontQuotas = DEFAULT_CLOUDFRONT_QUOTAS,
  otherPolicies = 0,
): void {
  const usage = cloudFrontUsage(partnerCount);
  const fixedBehaviors = usage.cacheBehaviors - partnerCount;
  const problems: string[] = [];
  if (usage.cacheBehaviors > quotas.cacheBehaviorsPerDistribution) {
    problems.push(
      `${usage.cacheBehaviors} cache behaviours (1 default + ${fixedBehaviors - 1} fixed + ${partnerCount} partner embed pages) exceed the ${quotas.cacheBehaviorsPerDistribution} per distribution; at most ${quotas.cacheBehaviorsPerDistribution - fixedBehaviors} partners fit`,
    );
  }
  const policies = usage.responseHeadersPolicies + otherPolicies;
  if (policies > quotas.responseHeadersPoliciesPerAccount) {
    const others = otherPolicies > 0 ? ` + ${otherPolicies} of other stacks in this account` : "";
    problems.push(
      `${policies} response headers policies (1 security-headers + ${partnerCount} partner CSP${others}) exceed the ${quotas.responseHeadersPoliciesPerAccount} per account; at most ${quotas.responseHeadersPoliciesPerAccount - 1 - otherPolicies} partners fit`,
    );
  }
  if (problems.length > 0) {
    throw new Error(
      `${where}: too many partners for CloudFront's quotas:\n  - ${problems.join("\n  - ")}\n` +
        "Request a quota increase (Service Quotas > Amazon CloudFront) and pass the new values with " +
        "-c cloudfrontMaxCacheBehaviors=<n> -c cloudfrontMaxResponseHeadersPolicies=<n>, or remove partners from the config.",
    );
  }
}

export interface CdnProps {
  readonly config: EnvironmentConfig;
  readonly api: apigateway.RestApi;
  /**
   * Directory holding the built SDK (`embed.js`, from `npm run build`), copied
   * to the bucket at deploy. Undefined: the bucket is created but nothing is
   * deployed into it (emulator deploys).
   */
  readonly sdkDistDir?: string;
  /** ARN of a CLOUDFRONT-scoped WAF WebACL (production). */
  readonly webAclArn?: string;
  readonly production: boolean;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
  readonly quotas?: CloudFrontQuotas;
}

/**
 * The CloudFront distribution on the app domain:
 * - `/embed.js`, `/sdk/*` from a private S3 bucket (Origin Access Control)
 *   holding the built SDK;
 * - `/embed/<partnerId>`: the partner's embed page through the API, with a
 *   response headers policy whose CSP is `embedPageCsp(partner origins)`, the
 *   very function the Lambda uses, so edge and origin cannot disagree;
 * - `/embed/*`, `/partner/*`, `/healthz`, `/app*` through the API, uncached,
 *   every viewer header, cookie and query string forwarded;
 * - default: `workspaceOrigin` when configured, else the API (stub workspace).
 * Security headers are added everywhere; the ones the Lambdas set win.
 */
export class Cdn extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly bucket: s3.Bucket;
  readonly partnerPolicies: ReadonlyMap<string, cloudfront.ResponseHeadersPolicy>;

  constructor(scope: Construct, id: string, props: CdnProps) {
    super(scope, id);
    const { config } = props;
    checkCloudFrontQuotas(this.node.path, config.partners.length, props.quotas);

    this.bucket = new s3.Bucket(this, "SdkBucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.bucket).acknowledge({
      id: "AwsSolutions-S1",
      reason:
        "Holds only the public SDK build, written solely by deployments (recorded in CloudTrail) and read solely by CloudFront through OAC; server access logs would add no signal.",
    });

    const securityHeaders: cloudfront.ResponseSecurityHeadersBehavior = {
      strictTransportSecurity: { accessControlMaxAge: Duration.seconds(HSTS_MAX_AGE_SECONDS), includeSubdomains: true, override: true },
      contentTypeOptions: { override: true },
      // The Lambdas send no-referrer themselves; this covers API Gateway's own responses.
      referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: false },
    };
    // The Lambdas send the same header (one home: lambdas/http/responses.ts); this covers API Gateway's own answers.
    const customHeadersBehavior: cloudfront.ResponseCustomHeadersBehavior = {
      customHeaders: [{ header: "Permissions-Policy", value: PERMISSIONS_POLICY, override: true }],
    };
    const securityPolicy = new cloudfront.ResponseHeadersPolicy(this, "SecurityHeaders", {
      comment: `Jupid Embed ${config.environment}: security headers (no CSP: the workspace is framed by the signed-in partner)`,
      securityHeadersBehavior: securityHeaders,
      customHeadersBehavior,
    });

    const partnerPolicies = new Map<string, cloudfront.ResponseHeadersPolicy>();
    for (const partner of config.partners) {
      const csp = partnerCsp(partner);
      partnerPolicies.set(
        partner.id,
        new cloudfront.ResponseHeadersPolicy(this, `EmbedCsp-${partner.id}`, {
          comment: `Jupid Embed ${config.environment}: embed page of ${partner.id}`,
          securityHeadersBehavior: {
            ...securityHeaders,
            contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
          },
          customHeadersBehavior,
        }),
      );
    }
    this.partnerPolicies = partnerPolicies;

    const apiOrigin = new origins.RestApiOrigin(props.api, { readTimeout: Duration.seconds(30) });
    const apiBehavior = (policy: cloudfront.IResponseHeadersPolicy): cloudfront.BehaviorOptions => ({
      origin: apiOrigin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: policy,
      compress: true,
    });

    const defaultBehavior: cloudfront.BehaviorOptions = config.workspaceOrigin
      ? {
          origin: workspaceHttpOrigin(config.workspaceOrigin),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: securityPolicy,
          compress: true,
        }
      : apiBehavior(securityPolicy);

    this.distribution = new cloudfront.Distribution(this, "Distribution", {
      comment: `Jupid Embed ${config.environment}`,
      defaultBehavior,
      ...(config.domain
        ? {
            domainNames: [config.domain.name],
            certificate: acm.Certificate.fromCertificateArn(this, "Certificate", config.domain.certificateArn),
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
      priceClass: props.production ? cloudfront.PriceClass.PRICE_CLASS_ALL : cloudfront.PriceClass.PRICE_CLASS_100,
      ...(props.webAclArn ? { webAclId: props.webAclArn } : {}),
    });

    const sdkOrigin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    // Exact partner paths first: CloudFront takes the first pattern that matches.
    for (const partner of config.partners) {
      const policy = partnerPolicies.get(partner.id) as cloudfront.ResponseHeadersPolicy;
      this.distribution.addBehavior(partnerEmbedPathPattern(partner.id), apiOrigin, apiBehavior(policy));
    }
    for (const pattern of SDK_PATH_PATTERNS) {
      this.distribution.addBehavior(pattern, sdkOrigin, {
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        // Public script: any site may load it (also with `crossorigin` + SRI). Managed: no account quota used.
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.CORS_ALLOW_ALL_ORIGINS_AND_SECURITY_HEADERS,
        compress: true,
      });
    }
    for (const pattern of API_PATH_PATTERNS) {
      this.distribution.addBehavior(pattern, apiOrigin, apiBehavior(securityPolicy));
    }

    if (props.sdkDistDir) {
      const embedJs = readSdk(props.sdkDistDir);
      const deployment = new s3deploy.BucketDeployment(this, "SdkDeployment", {
        destinationBucket: this.bucket,
        sources: SDK_OBJECT_KEYS.map((key) => s3deploy.Source.data(key, embedJs)),
        contentType: "text/javascript; charset=utf-8",
        // Short: /embed.js is unversioned and /sdk/v1/ takes compatible updates.
        cacheControl: [s3deploy.CacheControl.setPublic(), s3deploy.CacheControl.maxAge(Duration.minutes(5))],
        prune: true,
        // Outside production the objects go with the stack, so the bucket can be deleted too.
        retainOnDelete: props.production,
        memoryLimit: 256,
        outputObjectKeys: false,
        logGroup: new logs.LogGroup(this, "SdkDeploymentLogs", {
          retention: props.logRetention,
          removalPolicy: props.removalPolicy,
        }),
      });
      acknowledgeBucketDeploymentHandler(deployment);
    }

    const distribution = this.distribution;
    Validations.of(distribution).acknowledge({
      id: "AwsSolutions-CFR1",
      reason: "Partners embed Jupid for their users worldwide; there is no country to exclude.",
    });
    Validations.of(distribution).acknowledge({
      id: "AwsSolutions-CFR3",
      reason:
        "CloudFront standard logs always record the query string, where partner tokens may travel (?token=). Requests are logged by the API stage (path only) and, in production, by WAF with the query string and cookies redacted.",
    });
    if (!props.webAclArn) {
      Validations.of(distribution).acknowledge({
        id: "AwsSolutions-CFR2",
        reason: `No WAF in ${config.environment} (production only); the API stage and the sign-in methods are throttled.`,
      });
    }
    if (!config.domain) {
      Validations.of(distribution).acknowledge({
        id: "AwsSolutions-CFR4",
        reason:
          "No custom domain configured: the distribution uses the default *.cloudfront.net certificate, whose TLS policy CloudFront does not let you choose. With config.domain it is TLSv1.2_2021.",
      });
    }
  }
}

/**
 * BucketDeployment runs a CDK-owned singleton Lambda (Python + the AWS CLI
 * layer) at stack level, whose runtime, role and policy CDK chooses. Its
 * findings are acknowledged on that function only, each with the reason; the
 * IAM5 findings are read from its policy so that a new wildcard CDK adds
 * still has to be one of the reviewed kinds below.
 */
function acknowledgeBucketDeploymentHandler(deployment: s3deploy.BucketDeployment): void {
  const stack = Stack.of(deployment);
  const handler = stack.node.children.find((child) => child.node.id.startsWith("Custom::CDKBucketDeployment"));
  if (!handler) throw new Error("BucketDeployment handler not found: aws-cdk-lib changed how it names its singleton function");
  const reasons: Record<string, string> = {
    "AwsSolutions-L1":
      "CDK's BucketDeployment handler: aws-cdk-lib pins its Python runtime (with the AWS CLI layer); it runs only during deploys.",
    "Serverless-LambdaLatestVersion":
      "CDK's BucketDeployment handler: aws-cdk-lib pins its Python runtime (with the AWS CLI layer); it runs only during deploys.",
    "Serverless-LambdaDLQ":
      "CDK's BucketDeployment handler is a CloudFormation custom resource: failures fail the deploy through the ResponseURL; nothing to redrive.",
    "Serverless-LambdaAsyncFailureDestination":
      "CDK's BucketDeployment handler is a CloudFormation custom resource: failures fail the deploy through the ResponseURL; nothing to redrive.",
    "Serverless-LambdaTracing": "CDK's BucketDeployment handler runs only during deploys; its logs cover it.",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]":
      "CDK's BucketDeployment handler role, created by aws-cdk-lib with the basic execution policy; it runs only during deploys.",
  };
  for (const [id, reason] of Object.entries(reasons)) Validations.of(handler).acknowledge({ id, reason });

  // What aws-cdk-lib grants it: read the asset bucket (s3:GetObject*, GetBucket*, List*) and read/write/delete
  // objects of the SDK bucket for the sync (s3:DeleteObject*, PutObject*, Abort*) on <bucket>/*.
  const reviewed = /^(Action::s3:(GetObject|GetBucket|List|DeleteObject|PutObject|Abort|PutObjectLegalHold|PutObjectRetention|PutObjectTagging|PutObjectVersionTagging)\*?|Resource::.+\/\*)$/;
  const policy = handler.node.tryFindChild("ServiceRole")?.node.tryFindChild("DefaultPolicy");
  if (!(policy instanceof iam.Policy)) throw new Error("BucketDeployment handler policy not found");
  for (const finding of wildcardFindings(stack.resolve(policy.document))) {
    if (!reviewed.test(finding)) {
      throw new Error(`BucketDeployment handler got an unreviewed wildcard permission ${finding}; review and extend the list`);
    }
    Validations.of(handler).acknowledge({
      id: `AwsSolutions-IAM5[${finding}]`,
      reason:
        "Granted by aws-cdk-lib's BucketDeployment: read the deploy's asset object from the CDK assets bucket and sync (put/delete) objects in this stack's SDK bucket only.",
    });
  }
}

/** cdk-nag's IAM5 finding strings (`Action::x*`, `Resource::arn…*`) of a resolved policy document. */
export function wildcardFindings(document: unknown): string[] {
  const flatten = (node: unknown): string => {
    if (node === undefined) return "";
    if (typeof node === "string") return node.replace(/\$\{/g, "<").replace(/\}/g, ">");
    const value = node as Record<string, unknown>;
    if (Array.isArray(value["Fn::Join"])) {
      const [delimiter, items] = value["Fn::Join"] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (value["Fn::Sub"] !== undefined) return flatten(value["Fn::Sub"]);
    if (Array.isArray(value["Fn::GetAtt"])) {
      const [resource, attribute] = value["Fn::GetAtt"] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if (value.Ref !== undefined) return `<${flatten(value.Ref)}>`;
    return JSON.stringify(node);
  };
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
  const findings = new Set<string>();
  const statements = (document as { Statement?: Array<{ Effect: string; Action: unknown; Resource: unknown }> }).Statement ?? [];
  for (const statement of statements) {
    if (statement.Effect !== "Allow") continue;
    for (const action of list(statement.Action)) if (String(action).includes("*")) findings.add(`Action::${String(action)}`);
    for (const resource of list(statement.Resource).map(flatten)) if (resource.includes("*")) findings.add(`Resource::${resource}`);
  }
  return [...findings];
}

function partnerCsp(partner: PartnerConfig): string {
  const csp = embedPageCsp(partner.allowedOrigins);
  if (csp.length > MAX_CSP_LENGTH) {
    throw new Error(
      `partner "${partner.id}": its embed-page Content-Security-Policy is ${csp.length} characters, CloudFront allows ${MAX_CSP_LENGTH}; shorten or reduce allowedOrigins`,
    );
  }
  return csp;
}

/** An https origin for the real Jupid app (`workspaceOrigin`), path kept as the origin path. */
function workspaceHttpOrigin(value: string): origins.HttpOrigin {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`workspaceOrigin "${value}" is not a URL`);
  }
  if (url.protocol !== "https:") {
    throw new Error(`workspaceOrigin "${value}" must be https: CloudFront forwards session cookies to it`);
  }
  const originPath = url.pathname.replace(/\/$/, "");
  return new origins.HttpOrigin(url.hostname, {
    protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
    originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
    ...(url.port ? { httpsPort: Number(url.port) } : {}),
    ...(originPath ? { originPath } : {}),
  });
}

function readSdk(dir: string): string {
  const file = join(dir, "embed.js");
  try {
    return readFileSync(file, "utf8");
  } catch {
    throw new Error(`${file} not found: run \`npm run build\` before \`cdk synth\` / \`cdk deploy\` (or pass -c sdkDist=<dir>)`);
  }
}
