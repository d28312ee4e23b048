/**
 * `jupid-embed doctor origin`: the same answer as the gateway's public
 * endpoint for the same partner file, and the SDK's wording of it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnvironmentConfig } from "../../config/schema.ts";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { runBuffered } from "../../lib/operator/buffered-io.ts";
import { REPO_ROOT } from "../../lib/operator/environment.ts";

let gateway: RunningGateway;

beforeAll(async () => {
  setLogSink(() => {});
  const config = loadEnvironmentConfig(`${REPO_ROOT}/config/partners.local.json`);
  gateway = await startGateway({ config, secrets: {}, port: 0 });
});

afterAll(async () => {
  await gateway?.close();
});

describe("doctor origin", () => {
  it.each([
    ["acme-books", "http://localhost:3000", 0, undefined],
    ["acme-books", "http://localhost:8000", 1, "ORIGIN_NOT_ALLOWED"],
    ["initech", "http://localhost:3002", 1, "PARTNER_DISABLED"],
    ["nobody", "http://localhost:3000", 1, "PARTNER_NOT_FOUND"],
  ])("%s from %s: exit %i, %s, exactly what the endpoint answers", async (partnerId, origin, exit, code) => {
    const run = await runBuffered(["doctor", "origin", partnerId, origin, "--env", "local", "--json"]);
    expect(run.code).toBe(exit);
    const endpoint = await (await fetch(`${gateway.url}/embed/${partnerId}/embeddable?origin=${encodeURIComponent(origin)}`)).json();
    const { partner, origin: allowed, environment, code: printed } = run.json() as Record<string, unknown>;
    expect({ partner, origin: allowed, environment }).toEqual(endpoint);
    expect(printed).toBe(code);
  });

  it("prints the verdict, the allowed origins and the fix for a page that is not allowed", async () => {
    const run = await runBuffered(["doctor", "origin", "acme-books", "http://localhost:8000", "--env", "local"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^Verdict\s+ORIGIN_NOT_ALLOWED: partner acme-books is known, origin http:\/\/localhost:8000 is not-allowed \(Jupid local, /m);
    expect(run.stdout).toMatch(/^Allowed\s+http:\/\/localhost:3000 http:\/\/127\.0\.0\.1:3000$/m);
    expect(run.stdout).toMatch(/^Fix\s+add "http:\/\/localhost:8000" to allowedOrigins in .*partners\.local\.json and deploy$/m);
  });

  it("refuses what is not an origin as a usage error (exit 2), with the loader's hint", async () => {
    const run = await runBuffered(["doctor", "origin", "acme-books", "http://localhost:8000/finance"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('did you mean "http://localhost:8000"');
  });
});
