/**
 * One snapshot per environment stack, asset hashes normalised, so that a
 * change that would replace a stateful resource (a table's key, a secret's
 * name, a bucket) shows up in review as a diff of
 * test/cdk/__snapshots__/JupidEmbed-<env>.template.json.
 * Update deliberately with `npx vitest run --project cdk -u`.
 */
import { describe, expect, it } from "vitest";
import { DEPLOYED_ENVIRONMENTS, stackIdOf } from "../../lib/app.ts";
import { normalizeTemplate, SYNTH_TIMEOUT, synthEnvironment } from "./support.ts";

/** Inline-script CSP hashes change with the SDK's frame code; cdn.test.ts checks them against csp.ts. */
function withoutScriptHashes(template: unknown): unknown {
  return JSON.parse(JSON.stringify(template).replace(/'sha256-[A-Za-z0-9+/=]{44}'/g, "'sha256-<script-hash>'"));
}

describe("snapshots", () => {
  it.each(DEPLOYED_ENVIRONMENTS)("%s stack template", { timeout: SYNTH_TIMEOUT }, async (environment) => {
    const { json } = synthEnvironment(environment);
    const normalized = withoutScriptHashes(normalizeTemplate(json));
    await expect(`${JSON.stringify(normalized, null, 2)}\n`).toMatchFileSnapshot(
      `__snapshots__/${stackIdOf(environment)}.template.json`,
    );
  });
});
