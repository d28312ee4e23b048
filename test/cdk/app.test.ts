import { readFileSync } from "node:fs";
import { join } from "node:path";
import { App, Stack, Token } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as s3 from "aws-cdk-lib/aws-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseEnvironmentConfig, partnersFile } from "../../config/schema.ts";
import {
  addEmbedStacks,
  applyNagChecks,
  DEPLOYED_ENVIRONMENTS,
  optionsFromContext,
  stackEnvOf,
} from "../../lib/app.ts";
import { configOf, newTestApp, SDK_FIXTURE_DIR, SYNTH_TIMEOUT, type Synthesized, synthEnvironment, TEST_PROCESS_ENV } from "./support.ts";

function contextApp(context: Record<string, string>): App {
  return new App({ context });
}

describe("app: one stack per environment", () => {
  it("defines JupidEmbed-staging, -production and -integration from config/partners.<env>.json", () => {
    const app = newTestApp();
    const stacks = addEmbedStacks(app, { sdkDistDir: SDK_FIXTURE_DIR, processEnv: TEST_PROCESS_ENV });
    expect(stacks.map((stack) => stack.stackName)).toEqual(["JupidEmbed-staging", "JupidEmbed-production", "JupidEmbed-integration"]);
    for (const stack of stacks) expect(stack.config).toEqual(configOf(stack.config.environment as never));
  });

  it("-c env=<env> defines only that stack; unknown or local environments are refused", () => {
    expect(optionsFromContext(contextApp({ env: "staging" })).environments).toEqual(["staging"]);
    expect(optionsFromContext(contextApp({})).environments).toBeUndefined();
    expect(() => optionsFromContext(contextApp({ env: "local" }))).toThrow(/not a deployed environment; use one of staging, production, integration/);
    expect(() => optionsFromContext(contextApp({ env: "prod" }))).toThrow(/-c env=prod/);
    const app = newTestApp();
    const stacks = addEmbedStacks(app, { ...optionsFromContext(contextApp({ env: "integration" })), sdkDistDir: SDK_FIXTURE_DIR });
    expect(stacks.map((stack) => stack.stackName)).toEqual(["JupidEmbed-integration"]);
  });

  it("reads emulator, sdkDist and CloudFront quota overrides from context", () => {
    const options = optionsFromContext(
      contextApp({ emulator: "true", sdkDist: "test/cdk/fixtures/sdk-dist", cloudfrontMaxCacheBehaviors: "50" }),
    );
    expect(options.emulator).toBe(true);
    expect(options.sdkDistDir).toBe(join(process.cwd(), "test/cdk/fixtures/sdk-dist"));
    expect(options.cloudFrontQuotas).toEqual({ cacheBehaviorsPerDistribution: 50, responseHeadersPoliciesPerAccount: 20 });
    expect(optionsFromContext(contextApp({})).emulator).toBe(false);
    expect(() => optionsFromContext(contextApp({ cloudfrontMaxCacheBehaviors: "lots" }))).toThrow(/expected a positive integer/);
  });

  it("-c partnersFile=<file> deploys one environment from another partner file (tests' modified copies)", () => {
    const options = optionsFromContext(contextApp({ env: "integration", partnersFile: "config/partners.integration.json" }));
    expect(options.configs?.integration).toEqual(configOf("integration"));
    expect(() => optionsFromContext(contextApp({ partnersFile: "config/partners.integration.json" }))).toThrow(/also name the environment it is for with -c env=<env>/);
    const mismatched = optionsFromContext(contextApp({ env: "staging", partnersFile: "config/partners.integration.json" }));
    expect(() => addEmbedStacks(newTestApp(), { ...mismatched, sdkDistDir: SDK_FIXTURE_DIR })).toThrow(
      /the partner file for JupidEmbed-staging says "environment": "integration"/,
    );
  });

  it("account/region: config first, then the CLI's defaults, else environment-agnostic; production pinned to us-east-1", () => {
    const staging = configOf("staging");
    const production = configOf("production");
    expect(stackEnvOf(staging, {})).toEqual({});
    expect(stackEnvOf(staging, TEST_PROCESS_ENV)).toEqual({ account: "123456789012", region: "eu-central-1" });
    expect(stackEnvOf({ ...staging, aws: { account: "999999999999", region: "ap-south-1" } }, TEST_PROCESS_ENV)).toEqual({
      account: "999999999999",
      region: "ap-south-1",
    });
    expect(stackEnvOf(production, {})).toEqual({ region: "us-east-1" });
    expect(stackEnvOf(production, TEST_PROCESS_ENV)).toEqual({ account: "123456789012", region: "us-east-1" });
  });

  it("a production config that names another region is a synth error (its CloudFront WAF must live in us-east-1)", () => {
    const app = newTestApp();
    expect(() =>
      addEmbedStacks(app, {
        environments: ["production"],
        sdkDistDir: SDK_FIXTURE_DIR,
        configs: { production: { ...configOf("production"), aws: { region: "eu-west-1" } } },
      }),
    ).toThrow(/CloudFront WAF WebACL must be created in us-east-1, but the stack's region is eu-west-1/);
  });

  it("synthesizes offline without any account or region (no credentials), cdk-nag clean", { timeout: SYNTH_TIMEOUT }, () => {
    const app = newTestApp();
    const stacks = addEmbedStacks(app, { sdkDistDir: SDK_FIXTURE_DIR, processEnv: {} });
    applyNagChecks(app);
    const [staging, production, integration] = stacks;
    expect(Token.isUnresolved(staging?.account)).toBe(true);
    expect(Token.isUnresolved(staging?.region)).toBe(true);
    expect(Token.isUnresolved(integration?.region)).toBe(true);
    expect(production?.region).toBe("us-east-1");
    expect(() => app.synth()).not.toThrow();
  });

  it("a missing SDK build is a clear synth error (except for emulator deploys, which do not upload it)", () => {
    expect(() =>
      addEmbedStacks(newTestApp(), { environments: ["staging"], sdkDistDir: "/nonexistent/sdk/dist", processEnv: TEST_PROCESS_ENV }),
    ).toThrow("/nonexistent/sdk/dist/embed.js not found: run `npm run build` before `cdk synth` / `cdk deploy`");
    expect(() =>
      addEmbedStacks(newTestApp(), {
        environments: ["integration"],
        sdkDistDir: "/nonexistent/sdk/dist",
        processEnv: TEST_PROCESS_ENV,
        emulator: true,
      }),
    ).not.toThrow();
  });

  it("production refuses http and loopback partner origins (config schema), naming the partner and field", () => {
    const raw = JSON.parse(readFileSync(partnersFile("production"), "utf8")) as { partners: Array<Record<string, unknown>> };
    const [first] = raw.partners;
    const bad = { ...raw, partners: [{ ...first, allowedOrigins: ["http://app.acmebooks.example"] }, ...raw.partners.slice(1)] };
    expect(() => parseEnvironmentConfig(bad, "partners.production.json")).toThrow(ConfigError);
    expect(() => parseEnvironmentConfig(bad, "partners.production.json")).toThrow(
      /partner "acme-books" field allowedOrigins\.0: "http:\/\/app.acmebooks.example" is not allowed in production/,
    );
    const loopback = { ...raw, partners: [{ ...first, allowedOrigins: ["https://localhost:3000"] }] };
    expect(() => parseEnvironmentConfig(loopback, "partners.production.json")).toThrow(/no localhost or loopback/);
    for (const environment of DEPLOYED_ENVIRONMENTS) expect(() => configOf(environment)).not.toThrow();
  });

  it("cdk-nag runs on synth and fails it on an unacknowledged finding", () => {
    const app = newTestApp();
    const stack = new Stack(app, "NagProbe");
    new s3.Bucket(stack, "Unencrypted", { enforceSSL: false });
    applyNagChecks(app);
    expect(() => Template.fromStack(stack)).toThrow(/AwsSolutions-S10/);
  });
});

describe("app: the emulator switch", () => {
  let normal: Synthesized;
  let emulator: Synthesized;
  beforeAll(() => {
    normal = synthEnvironment("integration");
    emulator = synthEnvironment("integration", { emulator: true });
  }, SYNTH_TIMEOUT);

  it("leaves out the SDK upload (BucketDeployment and its CDK-owned function) and nothing else", () => {
    const resources = (synth: Synthesized) => synth.json.Resources as Record<string, { Type: string }>;
    const removed = Object.entries(resources(normal))
      .filter(([id]) => !(id in resources(emulator)))
      .map(([, resource]) => resource.Type)
      .sort();
    expect(removed).toEqual([
      "AWS::IAM::Policy",
      "AWS::IAM::Role",
      "AWS::Lambda::Function",
      "AWS::Lambda::LayerVersion",
      "AWS::Logs::LogGroup",
      "Custom::CDKBucketDeployment",
    ]);
    // BucketDeployment also tags the bucket it owns; apart from that tag the rest is the same template.
    const withoutOwnerTag = (resource: unknown) =>
      JSON.parse(JSON.stringify(resource), (key, value: unknown) =>
        key === "Tags" && Array.isArray(value)
          ? value.filter((tag: { Key: string }) => !tag.Key.startsWith("aws-cdk:cr-owned:"))
          : value,
      );
    for (const [id, resource] of Object.entries(resources(emulator))) {
      expect(withoutOwnerTag(resources(normal)[id]), id).toEqual(withoutOwnerTag(resource));
    }
    // CloudFront (OAC, response headers policies) stays: the emulator provisions it.
    emulator.template.resourceCountIs("AWS::CloudFront::Distribution", 1);
    emulator.template.resourceCountIs("AWS::CloudFront::OriginAccessControl", 1);
  });
});
