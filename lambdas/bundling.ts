/**
 * How every Lambda handler is bundled, in one place: the CDK functions
 * (lib/constructs), the size budgets (test/unit/budgets.test.ts) and the
 * benchmarks use these same options, so the measured bundle is the deployed one.
 */
import { join } from "node:path";

const HERE = import.meta.dirname;

/** Lambda entry files, one per handler. */
export function handlerEntry(name: string): string {
  return join(HERE, "handlers", `${name}.ts`);
}

/** esbuild options shared by all handler bundles (ESM for Node 22 on Lambda). */
export const LAMBDA_ESBUILD_OPTIONS = {
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  minify: true,
  // ESM builds of the AWS SDK tree-shake far better than its CommonJS ones.
  mainFields: ["module", "main"],
  // See lambdas/adapters/aws/lambda-credentials.ts.
  alias: { "@aws-sdk/credential-provider-node": join(HERE, "adapters", "aws", "lambda-credentials.ts") },
  // Some CommonJS dependencies call require(); ESM output needs it defined.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
} as const;
