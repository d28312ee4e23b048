/**
 * `jupid-embed partners revoke-sessions <id> --env E` against the emulator:
 * the epoch in the partners table goes up by one, and a gateway reading that
 * table through the AWS partner store refuses every session created before,
 * while new sign-ins work (issue 12: revocation after a secret compromise).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnvironmentConfig } from "../../config/schema.ts";
import { dynamoDbClient } from "../../lambdas/adapters/aws/clients.ts";
import { DynamoPartnerStore } from "../../lambdas/adapters/aws/partner-store.ts";
import { createMemoryDependencies } from "../../lambdas/adapters/memory/index.ts";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { runBuffered } from "../../lib/operator/buffered-io.ts";
import { type AwsTestResources, createAwsTestResources } from "../support/aws-tables.ts";
import { emulatorEndpoint } from "../support/ministack.ts";
import { partnerInput } from "../fixtures/partners.ts";
import { mintToken, TEST_SECRET } from "../fixtures/tokens.ts";
import { partnerConfig, uniquePartnerId } from "./worlds.ts";

const ORIGIN = "http://localhost:3000";
const partnerId = uniquePartnerId("revoke");
const dir = mkdtempSync(join(tmpdir(), "jupid-cli-revoke-"));
const configFile = join(dir, "partners.staging.json");
writeFileSync(
  configFile,
  JSON.stringify({ environment: "staging", appUrl: "https://staging.app.jupid.example", cacheSeconds: 60, partners: [partnerInput(partnerId, { allowedOrigins: [ORIGIN] })] }),
);
let resources: AwsTestResources;
let gateway: RunningGateway;

const cli = (argv: string[], env: Record<string, string | undefined> = process.env) =>
  runBuffered(["partners", "revoke-sessions", ...argv, "--env", "staging", "--config", configFile], { env, tty: false });

beforeAll(async () => {
  emulatorEndpoint();
  setLogSink(() => {});
  resources = await createAwsTestResources("cli-revoke");
  await resources.putPartner(partnerConfig(partnerId, { allowedOrigins: [ORIGIN] }));
  // A local gateway whose partner records come from the emulator's table, uncached.
  const config = loadEnvironmentConfig(configFile);
  const deps = { ...createMemoryDependencies(config), partners: new DynamoPartnerStore(dynamoDbClient(), resources.env.JUPID_TABLE_PARTNERS, 0) };
  const memorySecrets = createMemoryDependencies(config).secrets;
  memorySecrets.setCurrent(partnerId, TEST_SECRET);
  gateway = await startGateway({ config, secrets: {}, port: 0, deps: { ...deps, secrets: memorySecrets } });
});

afterAll(async () => {
  await gateway?.close();
  await resources?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(): Promise<string> {
  // A top-level session (the redirect entry, posted from the partner's page): resolvable by its id.
  const response = await fetch(`${gateway.url}/partner/${partnerId}/enter`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
    body: new URLSearchParams({ token: mintToken(partnerId, {}, Math.floor(Date.now() / 1000)) }),
  });
  expect(response.status).toBe(303);
  return /jupid_session=([^;]+)/.exec(response.headers.get("set-cookie") ?? "")?.[1] as string;
}

async function resolveStatus(sessionId: string): Promise<string> {
  const response = await fetch(`${gateway.url}/internal/sessions/resolve`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-jupid-internal-key": gateway.internalKey },
    body: JSON.stringify({ sessionId }),
  });
  const body = await response.json();
  return response.status === 200 ? "200" : `${response.status} ${body.error.code}`;
}

describe("partners revoke-sessions", () => {
  it("refuses without --yes, for env local, and for a partner without a record", async () => {
    const noYes = await cli([partnerId, "--partners-table", resources.env.JUPID_TABLE_PARTNERS]);
    expect(noYes.code).toBe(4);
    expect(noYes.stderr).toContain("revoking signs out every user");
    const local = await runBuffered(["partners", "revoke-sessions", "acme-books", "--env", "local", "--yes"], { tty: false });
    expect(local.code).toBe(2);
    const unknown = await cli([uniquePartnerId(), "--yes", "--partners-table", resources.env.JUPID_TABLE_PARTNERS]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("has no record of");
  });

  it("bumps the epoch; older sessions are refused, new sign-ins work (table from --partners-table or JUPID_TABLE_PARTNERS)", async () => {
    const old = await signIn();
    expect(await resolveStatus(old)).toBe("200");

    const byFlag = await cli([partnerId, "--yes", "--json", "--partners-table", resources.env.JUPID_TABLE_PARTNERS]);
    expect(byFlag.code, byFlag.stderr).toBe(0);
    expect(byFlag.json()).toMatchObject({ partnerId, sessionEpoch: 1, table: resources.env.JUPID_TABLE_PARTNERS, effectiveWithinSeconds: 60 });
    expect(await resolveStatus(old)).toBe("401 SESSION_REQUIRED");

    const fresh = await signIn();
    expect(await resolveStatus(fresh)).toBe("200");
    const byEnv = await cli([partnerId, "--yes"], { ...process.env, JUPID_TABLE_PARTNERS: resources.env.JUPID_TABLE_PARTNERS });
    expect(byEnv.code, byEnv.stderr).toBe(0);
    expect(byEnv.stdout).toContain("session epoch is now 2");
    expect(await resolveStatus(fresh)).toBe("401 SESSION_REQUIRED");
  });
});
