/**
 * Module aliases every Lambda bundle is built with. The CDK functions
 * (lib/constructs/embed-function.ts) and the size budgets and benchmarks
 * (bench/lambda-bundles.ts) import this one map, so the measured bundle is
 * the deployed one.
 */
import { join } from "node:path";

export const LAMBDA_MODULE_ALIASES: Readonly<Record<string, string>> = {
  // See lambdas/adapters/aws/lambda-credentials.ts: ~90 KB less per function.
  "@aws-sdk/credential-provider-node": join(import.meta.dirname, "adapters", "aws", "lambda-credentials.ts"),
};
