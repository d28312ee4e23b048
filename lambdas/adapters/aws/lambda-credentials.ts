/**
 * Stands in for `@aws-sdk/credential-provider-node` inside Lambda bundles
 * (see lambdas/bundling.ts). Lambda always hands a function its role's
 * credentials in environment variables, so the SDK's full default chain
 * (SSO, INI files, credential_process, web identity, IMDS and the STS/SSO
 * clients they need, ~90 KB minified) is dead weight in every cold start.
 * Local tools and tests keep the full chain: they import the SDK unbundled.
 */
import { fromEnv } from "@aws-sdk/credential-provider-env";

export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
