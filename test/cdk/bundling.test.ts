/**
 * The one test that runs the real esbuild bundling (all other CDK tests skip
 * it): a function is synthesized exactly as the stack builds it, the asset is
 * checked to be a self-contained ESM bundle, and then it is run with Node to
 * prove the bundle (ESM + createRequire banner + bundled AWS SDK) loads and
 * answers. The probe is the embed-page handler: the health handler bundles no
 * AWS SDK at all (test/unit/budgets.test.ts).
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { RemovalPolicy, Stack } from "aws-cdk-lib";
import * as logs from "aws-cdk-lib/aws-logs";
import { describe, expect, it } from "vitest";
import { EmbedFunction, ESM_REQUIRE_BANNER } from "../../lib/constructs/embed-function.ts";
import { newTestApp, SYNTH_TIMEOUT } from "./support.ts";

const run = promisify(execFile);

describe("bundling (real esbuild)", () => {
  it("bundles a handler into one self-contained ESM file that runs", { timeout: SYNTH_TIMEOUT }, async () => {
    const app = newTestApp(true);
    const stack = new Stack(app, "BundlingProbe", { env: { account: "123456789012", region: "us-east-1" } });
    const fn = new EmbedFunction(stack, "EmbedPage", {
      entry: "lambdas/handlers/embed-page.ts",
      description: "bundling probe",
      logRetention: logs.RetentionDays.ONE_DAY,
      logRemovalPolicy: RemovalPolicy.DESTROY,
      invokedBy: "api-gateway",
    });
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as {
      Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string }; Runtime?: string } }>;
    };
    const lambda = Object.values(template.Resources).find((resource) => resource.Type === "AWS::Lambda::Function");
    expect(lambda?.Properties.Runtime).toBe("nodejs24.x");
    const hash = lambda?.Properties.Code?.S3Key?.replace(/\.zip$/, "");
    const dir = join(assembly.directory, `asset.${hash}`);
    const file = join(dir, "index.mjs");
    expect(existsSync(file), `${file} exists`).toBe(true);
    expect(existsSync(`${file}.map`), "source map next to the bundle").toBe(true);

    const code = readFileSync(file, "utf8");
    expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    // Self-contained: the only imports left are Node built-ins (the AWS SDK, middy, zod are inside).
    const imports = [...code.matchAll(/\bfrom\s*["']([^"']+)["']/g)].map((match) => match[1]);
    expect(imports.length).toBeGreaterThan(0);
    for (const specifier of imports) expect(specifier, specifier).toMatch(/^node:/);
    expect(code).not.toMatch(/\bimport\s*\(\s*["']@aws-sdk/);
    expect(code).toContain("DynamoDB");
    expect(code).toContain("//# sourceMappingURL=index.mjs.map");
    expect(code.length, "minified").toBeLessThan(2_000_000);
    expect(fn.function.runtime.name).toBe("nodejs24.x");

    // Run it: load the bundle as Lambda would and invoke the handler with an API Gateway event.
    const probe = `
      const { handler } = await import(${JSON.stringify(new URL(`file://${file}`).href)});
      // An id that cannot be a partner: answered without any AWS call (there is no endpoint here).
      const result = await handler({ httpMethod: "GET", path: "/embed/Not_A_Partner", resource: "/embed/{partnerId}", headers: {}, pathParameters: { partnerId: "Not_A_Partner" }, queryStringParameters: null, body: null, isBase64Encoded: false, requestContext: {} }, {});
      process.stdout.write("RESULT " + JSON.stringify(result) + "\\n");
    `;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", probe], {
      env: {
        PATH: process.env.PATH ?? "",
        AWS_REGION: "us-east-1",
        JUPID_SETTINGS: JSON.stringify({ environment: "staging", appUrl: "https://staging.app.jupid.com" }),
        JUPID_TABLE_PARTNERS: "p",
        JUPID_TABLE_IDENTITIES: "i",
        JUPID_TABLE_REPLAY: "r",
        JUPID_TABLE_SESSIONS: "s",
        JUPID_TABLE_USAGE: "u",
        JUPID_SECRET_PREFIX: "jupid-embed/staging/partners/",
      },
      timeout: 30_000,
    });
    const line = stdout.split("\n").find((text) => text.startsWith("RESULT "));
    const result = JSON.parse(line?.slice("RESULT ".length) ?? "null") as { statusCode: number; body: string };
    expect(result.statusCode).toBe(404);
    expect(result.body).toContain("No such partner");
  });
});
