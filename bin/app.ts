/**
 * The CDK app: `JupidEmbed-staging`, `JupidEmbed-production` and
 * `JupidEmbed-integration`, one stack per `config/partners.<env>.json`.
 *
 *   npx cdk synth                          all stacks (offline, no credentials)
 *   npx cdk deploy JupidEmbed-staging      one stack
 *   npx cdk deploy -c env=staging          only that stack is synthesized
 *   npx cdk deploy -c env=integration -c emulator=true   into MiniStack/LocalStack
 *
 * cdk-nag's AWS Solutions and Serverless packs run on every synth.
 */
import { App } from "aws-cdk-lib";
import { addEmbedStacks, applyNagChecks, optionsFromContext } from "../lib/app.ts";

const app = new App();
addEmbedStacks(app, optionsFromContext(app));
applyNagChecks(app);
app.synth();
