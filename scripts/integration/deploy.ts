/**
 * Deploy the integration stack by hand, the way the integration suite does,
 * into the endpoint AWS_ENDPOINT_URL names (required: this script never
 * targets a real account by accident), then print where its API answers.
 *
 *   AWS_ENDPOINT_URL=http://127.0.0.1:4566 npx tsx scripts/integration/deploy.ts [--partners-file <file>] [--no-bootstrap]
 *   AWS_ENDPOINT_URL=http://127.0.0.1:4566 npx tsx scripts/integration/deploy.ts --report
 *
 * `--report` prints the failure report of the suite (stack, resources,
 * function logs) without deploying. Dummy credentials and us-east-1 are used
 * unless the environment sets others. See the README (Integration tests).
 */
import { parseArgs } from "node:util";
import { deployStack } from "../../test/integration/support/cdk.ts";
import { apiBaseUrl, deploymentReport, readStack } from "../../test/integration/support/deployment.ts";

const { values } = parseArgs({
  options: {
    "partners-file": { type: "string" },
    "no-bootstrap": { type: "boolean", default: false },
    report: { type: "boolean", default: false },
  },
});

const endpoint = process.env.AWS_ENDPOINT_URL;
if (!endpoint) {
  console.error("AWS_ENDPOINT_URL is not set: start MiniStack (see the README (Integration tests)) and point this script at it.");
  process.exit(2);
}
process.env.AWS_ACCESS_KEY_ID ??= "test";
process.env.AWS_SECRET_ACCESS_KEY ??= "test";
process.env.AWS_REGION ??= "us-east-1";

if (values.report) {
  console.log(await deploymentReport(Date.now() - 60 * 60_000));
  process.exit(0);
}

const started = Date.now();
try {
  const timings = await deployStack({
    label: "manual",
    bootstrap: !values["no-bootstrap"],
    ...(values["partners-file"] ? { partnersFile: values["partners-file"] } : {}),
  });
  for (const { step, seconds } of timings) console.log(`${step}: ${seconds}s`);
} catch (error) {
  console.error((error as Error).message);
  console.error(await deploymentReport(started));
  process.exit(1);
}
const { outputs } = await readStack();
console.log(`API: ${apiBaseUrl(outputs, endpoint)}`);
for (const [key, value] of Object.entries(outputs)) console.log(`  ${key} = ${value}`);
