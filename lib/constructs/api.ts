import { RemovalPolicy, Validations } from "aws-cdk-lib";
import * as apigateway from "aws-cdk-lib/aws-apigateway";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { type HandlerName, ROUTES, type Route } from "../../lambdas/handlers/routes.ts";

/** The stage every environment deploys (CloudFront's API origin path is `/live`). */
export const API_STAGE_NAME = "live";

/**
 * Access-log fields. `$context.path` is the path only: tokens may travel in
 * a query string (`?token=`), so neither the query string nor the full
 * request URI is ever logged, and neither are headers (cookies).
 */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  requestId: "$context.requestId",
  requestTime: "$context.requestTime",
  ip: "$context.identity.sourceIp",
  userAgent: "$context.identity.userAgent",
  caller: "$context.identity.caller",
  userArn: "$context.identity.userArn",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  path: "$context.path",
  protocol: "$context.protocol",
  status: "$context.status",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  integrationLatency: "$context.integrationLatency",
  integrationStatus: "$context.integration.status",
  errorType: "$context.error.responseType",
  errorMessage: "$context.error.message",
};

export interface Throttle {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface ApiProps {
  readonly functions: Readonly<Record<HandlerName, lambda.IFunction>>;
  /** Default throttle of every method of the stage. */
  readonly stageThrottle: Throttle;
  /** Tighter throttle of the sign-in methods (`POST …/session`, `GET|POST …/enter`, `…/oidc/*`). */
  readonly signInThrottle: Throttle;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /** @default ROUTES from lambdas/handlers/routes.ts (the table the local gateway routes with) */
  readonly routes?: readonly Route[];
}

/**
 * The REST API (regional; CloudFront is its public front), built from the
 * same route table as the local gateway. Every route is a Lambda proxy
 * integration; `/internal/*` routes require SigV4 (IAM) callers. The stage
 * throttles, traces, and writes JSON access logs without query strings.
 */
export class Api extends Construct {
  readonly restApi: apigateway.RestApi;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const routes = props.routes ?? ROUTES;
    this.accessLogs = new logs.LogGroup(this, "AccessLogs", {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    const signInMethods: Record<string, apigateway.MethodDeploymentOptions> = {};
    for (const route of routes) {
      if (route.handler !== "session" && route.handler !== "enter" && route.handler !== "oidc") continue;
      for (const method of route.methods) {
        if (route.handler === "session" && method !== "POST") continue;
        signInMethods[`${route.path}/${method}`] = {
          throttlingRateLimit: props.signInThrottle.rateLimit,
          throttlingBurstLimit: props.signInThrottle.burstLimit,
        };
      }
    }

    this.restApi = new apigateway.RestApi(this, "RestApi", {
      description: "Jupid Embed gateway (handlers in lambdas/handlers)",
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Access logging needs the account-level CloudWatch role of API Gateway.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: API_STAGE_NAME,
        throttlingRateLimit: props.stageThrottle.rateLimit,
        throttlingBurstLimit: props.stageThrottle.burstLimit,
        methodOptions: signInMethods,
        // Off: X-Ray stage traces record each URL with its query string, and a `?token=` sign-in carries the token
        // there. The functions keep active tracing (their segments hold no URL).
        tracingEnabled: false,
        loggingLevel: apigateway.MethodLoggingLevel.OFF,
        dataTraceEnabled: false,
        metricsEnabled: false,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    const integrations = new Map<HandlerName, apigateway.LambdaIntegration>();
    const integrationOf = (name: HandlerName) => {
      let integration = integrations.get(name);
      if (!integration) {
        integration = new apigateway.LambdaIntegration(props.functions[name], { proxy: true, allowTestInvoke: false });
        integrations.set(name, integration);
      }
      return integration;
    };
    for (const route of routes) {
      const resource = this.restApi.root.resourceForPath(route.path);
      for (const method of route.methods) {
        resource.addMethod(method, integrationOf(route.handler), {
          authorizationType: route.auth === "iam" ? apigateway.AuthorizationType.IAM : apigateway.AuthorizationType.NONE,
        });
      }
    }

    const publicRoutes = routes
      .filter((route) => route.auth === "none")
      .map((route) => route.path)
      .join(", ");
    const authReason = `Public by design (${publicRoutes}): a browser calls them, authenticated by the partner-signed token, the session cookie, or not at all (embed page, health). /internal/* requires IAM (SigV4).`;
    Validations.of(this.restApi).acknowledge({ id: "AwsSolutions-APIG4", reason: authReason });
    Validations.of(this.restApi).acknowledge({
      id: "AwsSolutions-COG4",
      reason: `${authReason} There are no Cognito users in this product.`,
    });
    Validations.of(this.restApi).acknowledge({
      id: "AwsSolutions-APIG2",
      reason:
        "Every handler validates its input with a strict schema and answers with the product's stable error codes (400/413/415 JSON); an API Gateway validator would answer differently and duplicate the rules.",
    });
    Validations.of(this.restApi).acknowledge({
      id: "AwsSolutions-APIG6",
      reason:
        "Execution logs are off on purpose: they record request parameters, and partner tokens may arrive in query strings. The stage writes access logs (path only, no query string).",
    });
    Validations.of(this.restApi).acknowledge({
      id: "Serverless-APIGWXrayEnabled",
      reason:
        "X-Ray tracing on the stage records every request URL with its query string, and a `?token=` redirect sign-in carries the partner token there. The functions keep active X-Ray tracing (their segments carry no URL); access logs have the path without the query.",
    });
    Validations.of(this.restApi).acknowledge({
      id: "AwsSolutions-APIG3",
      reason:
        "The public entry point is the CloudFront distribution, whose WebACL (production) rate-limits the session and enter routes; the stage and the sign-in methods are throttled for traffic that reaches the API directly.",
    });
    Validations.of(this.restApi).acknowledge({
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
      reason:
        "The account-level role API Gateway uses to write access logs; AmazonAPIGatewayPushToCloudWatchLogs is the AWS-documented policy for it and API Gateway only assumes it to deliver logs.",
    });
  }

  /** The execute-api ARN pattern of the IAM-authorised internal routes, for the Jupid app's role. */
  internalRoutesArn(): string {
    return this.restApi.arnForExecuteApi("*", "/internal/*", API_STAGE_NAME);
  }
}
