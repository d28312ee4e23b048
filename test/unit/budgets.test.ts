/**
 * Deterministic budgets: each Lambda handler bundle, built the way the CDK
 * builds it (bench/lambda-bundles.ts), must stay within 300 KB minified
 * (the oidc handler: 320 KB, see LAMBDA_BUNDLE_BUDGET_OVERRIDES).
 * Sizes only — timings never fail tests (see `npm run bench`). The embed.js
 * budget lives with the SDK (test/unit/sdk-budget.test.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleBudget, bundleHandlers, HANDLER_NAMES, type HandlerBundle } from "../../bench/lambda-bundles.ts";

const outDir = mkdtempSync(join(tmpdir(), "jupid-budgets-"));
let bundles: Map<string, HandlerBundle>;

beforeAll(async () => {
  bundles = new Map((await bundleHandlers(outDir)).map((b) => [b.name, b]));
}, 120_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

describe("Lambda handler bundles, built as lib/constructs/embed-function.ts builds them", () => {
  it.each(HANDLER_NAMES)("%s stays within its budget (300 KB; oidc 320 KB)", (name) => {
    const bundle = bundles.get(name);
    expect(bundle, `no bundle for ${name}`).toBeDefined();
    const { bytes, breakdown } = bundle as HandlerBundle;
    const largest = breakdown
      .slice(0, 6)
      .map(([input, size]) => `${input} ${kb(size)}`)
      .join(", ");
    expect(bytes, `lambdas/handlers/${name}.ts bundles to ${kb(bytes)} (budget ${kb(bundleBudget(name))}); largest inputs: ${largest}`).toBeLessThanOrEqual(
      bundleBudget(name),
    );
  });
});

describe("what each handler bundles", () => {
  it("the health handler bundles no AWS SDK at all (it builds no client)", () => {
    const health = bundles.get("health") as HandlerBundle;
    const aws = health.breakdown.filter(([input]) => /^@(aws-sdk|smithy|aws)\//.test(input)).map(([input]) => input);
    expect(aws, "lambdas/handlers/health.ts must not import lambdas/adapters/aws (through runtime.ts or otherwise)").toEqual([]);
  });

  it.each(HANDLER_NAMES.filter((name) => name !== "health"))("%s bundles the DynamoDB client it uses", (name) => {
    const bundle = bundles.get(name) as HandlerBundle;
    expect(bundle.breakdown.map(([input]) => input)).toContain("@aws-sdk/client-dynamodb");
  });
});
