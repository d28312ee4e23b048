import { beforeAll, describe, expect, it } from "vitest";
import { ROUTES } from "../../lambdas/handlers/routes.ts";
import { API_STAGE_NAME } from "../../lib/constructs/api.ts";
import { logicalId, resourcesOfType, type Synthesized, synthEnvironment, SYNTH_TIMEOUT } from "./support.ts";

type Props = Record<string, unknown>;

/** Full path of an API Gateway resource, walking PathPart/ParentId up to the root. */
function resourcePaths(json: Record<string, unknown>): Map<string, string> {
  const resources = new Map(resourcesOfType(json, "AWS::ApiGateway::Resource"));
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const props = resources.get(id) as Props;
    const parent = props.ParentId as { Ref?: string };
    const prefix = parent.Ref ? pathOf(parent.Ref) : "";
    return `${prefix}/${String(props.PathPart)}`;
  };
  for (const id of resources.keys()) paths.set(id, pathOf(id));
  return paths;
}

describe("api: REST API from the route table", () => {
  let staging: Synthesized;
  let production: Synthesized;
  beforeAll(() => {
    staging = synthEnvironment("staging");
    production = synthEnvironment("production");
  }, SYNTH_TIMEOUT);

  it("has exactly the routes of lambdas/handlers/routes.ts, each proxied to its handler's function", () => {
    const paths = resourcePaths(staging.json);
    const actual = resourcesOfType(staging.json, "AWS::ApiGateway::Method").map(([, props]) => {
      const resourceId = props.ResourceId as { Ref?: string };
      const integration = props.Integration as { Type: string; IntegrationHttpMethod: string; Uri: unknown };
      return {
        route: `${String(props.HttpMethod)} ${resourceId.Ref ? paths.get(resourceId.Ref) : "/"}`,
        auth: props.AuthorizationType,
        integration: integration.Type,
        method: integration.IntegrationHttpMethod,
        uri: JSON.stringify(integration.Uri),
      };
    });
    const expected = ROUTES.flatMap((route) =>
      route.methods.map((method) => ({
        route: `${method} ${route.path}`,
        auth: route.auth === "iam" ? "AWS_IAM" : "NONE",
        integration: "AWS_PROXY",
        method: "POST",
        fn: logicalId(staging.stack.functions.functions[route.handler].function),
      })),
    );
    expect(actual.map(({ uri: _uri, ...rest }) => rest).sort((a, b) => a.route.localeCompare(b.route))).toEqual(
      expected.map(({ fn: _fn, ...rest }) => rest).sort((a, b) => a.route.localeCompare(b.route)),
    );
    for (const item of expected) {
      const match = actual.find((candidate) => candidate.route === item.route);
      expect(match?.uri, item.route).toContain(`"${item.fn}","Arn"`);
    }
  });

  it("every /internal/* method requires IAM, every other method is public", () => {
    const paths = resourcePaths(staging.json);
    for (const [, props] of resourcesOfType(staging.json, "AWS::ApiGateway::Method")) {
      const path = paths.get((props.ResourceId as { Ref: string }).Ref) ?? "";
      expect(props.AuthorizationType, path).toBe(path.startsWith("/internal/") ? "AWS_IAM" : "NONE");
    }
    expect(ROUTES.filter((route) => route.path.startsWith("/internal/")).every((route) => route.auth === "iam")).toBe(true);
  });

  it.each([
    ["staging", { rate: 200, burst: 400 }, { rate: 100, burst: 200 }],
    ["production", { rate: 500, burst: 1000 }, { rate: 100, burst: 200 }],
  ] as const)("%s: stage and sign-in methods are throttled", (environment, stage, signIn) => {
    const synth = environment === "staging" ? staging : production;
    const [[, props] = ["", {}]] = resourcesOfType(synth.json, "AWS::ApiGateway::Stage");
    expect(props.StageName).toBe(API_STAGE_NAME);
    // X-Ray on the stage records each URL with its query string, and `?token=` sign-ins carry a token there (issue 12).
    expect(props.TracingEnabled ?? false).toBe(false);
    const settings = props.MethodSettings as Array<Record<string, unknown>>;
    const byPath = Object.fromEntries(settings.map((setting) => [`${setting.HttpMethod} ${setting.ResourcePath}`, setting]));
    expect(byPath["* /*"]).toMatchObject({
      ThrottlingRateLimit: stage.rate,
      ThrottlingBurstLimit: stage.burst,
      DataTraceEnabled: false,
      LoggingLevel: "OFF",
    });
    for (const key of ["POST /~1embed~1{partnerId}~1session", "GET /~1partner~1{partnerId}~1enter", "POST /~1partner~1{partnerId}~1enter"]) {
      expect(byPath[key], key).toMatchObject({ ThrottlingRateLimit: signIn.rate, ThrottlingBurstLimit: signIn.burst });
    }
  });

  it("access logs are JSON with the path only: no query string, no full URI, no headers or body", () => {
    const [[, props] = ["", {}]] = resourcesOfType(staging.json, "AWS::ApiGateway::Stage");
    const setting = props.AccessLogSetting as { Format: string; DestinationArn: unknown };
    const fields = JSON.parse(setting.Format) as Record<string, string>;
    expect(fields.path).toBe("$context.path");
    for (const value of Object.values(fields)) {
      expect(value).toMatch(/^\$context\.[A-Za-z.]+$/);
      expect(value).not.toMatch(/requestUri|querystring|queryString|\$input|\$method\.request|header|body|requestOverride/i);
    }
    // The log group's ARN without the trailing ":*" (API Gateway rejects it), built from its name.
    expect(JSON.stringify(setting.DestinationArn)).toContain(`{"Ref":"${logicalId(staging.stack.api.accessLogs)}"}`);
    expect(JSON.stringify(setting.DestinationArn)).not.toContain(":*");
    const group = staging.template.findResources("AWS::Logs::LogGroup")[logicalId(staging.stack.api.accessLogs)];
    expect(group?.Properties.RetentionInDays).toBe(30);
  });

  it("is a regional endpoint with the account's CloudWatch role kept on stack deletion", () => {
    staging.template.hasResourceProperties("AWS::ApiGateway::RestApi", { EndpointConfiguration: { Types: ["REGIONAL"] } });
    const accounts = staging.template.findResources("AWS::ApiGateway::Account");
    expect(Object.values(accounts)).toHaveLength(1);
    expect(Object.values(accounts)[0]?.DeletionPolicy).toBe("Retain");
  });

  it("lambda permissions are scoped to their method (no test-invoke, no wildcard API)", () => {
    for (const [, props] of resourcesOfType(staging.json, "AWS::Lambda::Permission")) {
      expect(props.Principal).toBe("apigateway.amazonaws.com");
      const arn = JSON.stringify(props.SourceArn);
      expect(arn).toContain(`{"Ref":"${logicalId(staging.stack.api.restApi.deploymentStage)}"}`);
      expect(arn).not.toContain("test-invoke-stage");
      expect(arn).not.toMatch(/"\/\*\/\*"/);
    }
  });
});
