/**
 * The operator CLI's secret commands against the AWS emulator (AWS_ENDPOINT_URL
 * from the contract project's global setup): show without and with --reveal,
 * rotate (previous key kept, still accepted by the doctor, by the gateway's
 * AWS PartnerSecrets adapter and by a local gateway running on that adapter),
 * end-overlap, handover, mint, and retire with its safety checks.
 *
 * Every name is unique to this run (secret prefix and partner id), so a
 * shared emulator is fine too.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateSecretCommand, DeleteSecretCommand } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnvironmentConfig } from "../../config/schema.ts";
import { createMemoryDependencies } from "../../lambdas/adapters/memory/index.ts";
import { secretsManagerClient } from "../../lambdas/adapters/aws/clients.ts";
import { SecretsManagerPartnerSecrets } from "../../lambdas/adapters/aws/partner-secrets.ts";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { runBuffered } from "../../lib/operator/buffered-io.ts";
import type { DoctorReport } from "../../lib/operator/doctor.ts";
import { emulatorClients, randomPartnerSecret } from "../support/aws-tables.ts";
import { emulatorEndpoint } from "../support/ministack.ts";
import { partnerInput } from "../fixtures/partners.ts";
import { mintToken } from "../fixtures/tokens.ts";
import { postFrameSignIn } from "../fixtures/dpop.ts";

const OVERLAP_SECONDS = 3600;
const ORIGIN = "http://localhost:3000";
const run = randomUUID().slice(0, 8);
const partnerId = `cli-${run}`;
const leaverId = `gone-${run}`;
const prefix = `jupid-test/cli-${run}/partners/`;
const dir = mkdtempSync(join(tmpdir(), "jupid-cli-secrets-"));

function writeConfig(name: string, partners: string[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      environment: "staging",
      appUrl: "https://staging.app.jupid.example",
      keyRotationOverlapSeconds: OVERLAP_SECONDS,
      cacheSeconds: 120,
      partners: partners.map((id) => partnerInput(id, { allowedOrigins: [ORIGIN] })),
    }),
  );
  return file;
}

const configFile = writeConfig("partners.staging.json", [partnerId]);
const common = ["--env", "staging", "--config", configFile, "--secret-prefix", prefix];
const cli = (argv: string[], options: { tty?: boolean; now?: number } = {}) =>
  runBuffered([...argv, ...common], { env: process.env, ...(options.now ? { now: () => options.now! } : {}), tty: options.tty === true });

/** The gateway's own adapter, uncached, exactly as a Lambda would build it. */
const adapter = () =>
  new SecretsManagerPartnerSecrets(secretsManagerClient(), { secretPrefix: prefix, keyRotationOverlapSeconds: OVERLAP_SECONDS, cacheSeconds: 0 });

let gateway: RunningGateway;
const firstSecret = randomPartnerSecret();
let firstKid = "";

beforeAll(async () => {
  emulatorEndpoint(); // fails loudly if the emulator setup did not run
  setLogSink(() => {});
  const { secrets } = emulatorClients();
  for (const id of [partnerId, leaverId]) {
    const out = await secrets.send(new CreateSecretCommand({ Name: `${prefix}${id}`, SecretString: id === partnerId ? firstSecret : randomPartnerSecret() }));
    if (id === partnerId) firstKid = out.VersionId ?? "";
  }
  // A local gateway whose partner keys come from Secrets Manager through the AWS adapter.
  const config = loadEnvironmentConfig(configFile);
  gateway = await startGateway({ config, secrets: {}, port: 0, deps: { ...createMemoryDependencies(config), secrets: adapter() } });
});

afterAll(async () => {
  await gateway?.close();
  const { secrets } = emulatorClients();
  await Promise.allSettled(
    [partnerId, leaverId].map((id) => secrets.send(new DeleteSecretCommand({ SecretId: `${prefix}${id}`, ForceDeleteWithoutRecovery: true }))),
  );
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(token: string) {
  const response = await postFrameSignIn(gateway.url, partnerId, { token, parentOrigin: ORIGIN });
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code };
}

interface ShowJson {
  secretName: string;
  status: string;
  current: { kid: string } | null;
  previous: { kid: string; notAfter: string; active: boolean } | null;
  versions: Record<string, string[]>;
  secret?: string;
}

describe("operator CLI: partner secrets in Secrets Manager (emulator)", () => {
  let tokenWithFirst = "";
  let secondKid = "";

  it("secret show: metadata only without --reveal, the value with it", async () => {
    const hidden = await cli(["secret", "show", partnerId, "--json"]);
    expect(hidden.code).toBe(0);
    expect(hidden.stdout).not.toContain(firstSecret);
    const shown = hidden.json<ShowJson>();
    expect(shown).toMatchObject({ secretName: `${prefix}${partnerId}`, status: "active", current: { kid: firstKid }, previous: null });
    expect(shown).not.toHaveProperty("secret");
    expect(shown.versions[firstKid]).toContain("AWSCURRENT");

    const text = await cli(["secret", "show", partnerId]);
    expect(text.stdout).toMatch(/^Value\s+\(hidden: run on a terminal or pass --reveal\)$/m);
    expect(text.stdout).not.toContain(firstSecret);
    expect(text.stderr).toContain(`Secrets Manager at ${process.env.AWS_ENDPOINT_URL}`);

    expect((await cli(["secret", "show", partnerId, "--json", "--reveal"])).json<ShowJson>().secret).toBe(firstSecret);
    expect((await cli(["secret", "show", partnerId], { tty: true })).stdout).toContain(firstSecret);
  });

  it("token mint signs with AWSCURRENT, and the doctor and the gateway accept the token", async () => {
    const minted = await cli(["token", "mint", partnerId, "--sub", "aws-user-1"]);
    expect(minted.code).toBe(0);
    tokenWithFirst = minted.stdout.trim();
    const doctor = await cli(["token", "doctor", tokenWithFirst, "--origin", ORIGIN, "--json"]);
    expect(doctor.code).toBe(0);
    const report = doctor.json<DoctorReport>();
    expect(report.keySource).toBe(`Secrets Manager ${prefix}${partnerId}`);
    expect(report.checks.find((c) => c.rule === "signature")?.message).toBe(`matches the current key (kid ${firstKid})`);
    expect(await signIn(tokenWithFirst)).toEqual({ status: 200, code: undefined });
  });

  it("secret rotate: a new current key, the old one kept as previous for the overlap", async () => {
    const before = Date.now();
    const rotated = await cli(["secret", "rotate", partnerId, "--json"]);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).not.toContain(firstSecret);
    const result = rotated.json<{ kid: string; previous: { kid: string; notAfter: string; active: boolean }; secret?: string; acceptedEverywhereFrom: string }>();
    secondKid = result.kid;
    expect(secondKid).not.toBe(firstKid);
    expect(result).not.toHaveProperty("secret"); // not a terminal, no --reveal
    expect(result.previous).toMatchObject({ kid: firstKid, active: true });
    const notAfter = Date.parse(result.previous.notAfter) / 1000;
    expect(notAfter).toBeGreaterThanOrEqual(Math.floor(before / 1000) - 2 + OVERLAP_SECONDS);
    expect(notAfter).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 2 + OVERLAP_SECONDS);

    // The gateway's adapter now returns both keys.
    const keys = await adapter().getKeys(partnerId);
    expect(keys.map((k) => [k.stage, k.kid])).toEqual([
      ["current", secondKid],
      ["previous", firstKid],
    ]);
    expect(keys[1]?.secret).toBe(firstSecret);
    expect(keys[0]?.secret).toMatch(/^[A-Za-z0-9]{64}$/);
    expect((await cli(["secret", "show", partnerId, "--json", "--reveal"])).json<ShowJson>().secret).toBe(keys[0]?.secret);
  });

  it("during the overlap a token signed with the previous secret passes the doctor and the gateway", async () => {
    const previousToken = mintToken(partnerId, { secret: firstSecret }, Math.floor(Date.now() / 1000));
    const doctor = await cli(["token", "doctor", previousToken, "--origin", ORIGIN, "--json"]);
    expect(doctor.code).toBe(0);
    const signature = doctor.json<DoctorReport>().checks.find((c) => c.rule === "signature");
    expect(signature).toMatchObject({ status: "pass", message: `matches the previous key (kid ${firstKid})` });
    expect(await signIn(previousToken)).toEqual({ status: 200, code: undefined });

    const fresh = (await cli(["token", "mint", partnerId, "--sub", "aws-user-2"])).stdout.trim();
    expect(await signIn(fresh)).toEqual({ status: 200, code: undefined });

    // After the overlap the doctor says the previous key is no longer tried.
    const late = await cli(["token", "doctor", previousToken, "--json", "--at", String(Math.floor(Date.now() / 1000) + OVERLAP_SECONDS + 5)]);
    expect(late.code).toBe(1);
    const report = late.json<DoctorReport>();
    expect(report.verdict).toMatchObject({ code: "TOKEN_SIGNATURE_INVALID" });
    expect(report.checks.find((c) => c.rule === "signature")?.hints?.[0]).toContain("its rotation overlap ended");
  });

  it("a second rotation inside the overlap is refused unless forced", async () => {
    const refused = await cli(["secret", "rotate", partnerId]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(`the previous key (kid ${firstKid})`);
    expect(refused.stderr).toContain("--force");
    expect((await adapter().getKeys(partnerId)).map((k) => k.kid)).toEqual([secondKid, firstKid]); // unchanged
  });

  it("partners handover --reveal hands over the new current secret", async () => {
    const [current] = await adapter().getKeys(partnerId);
    const hidden = await cli(["partners", "handover", partnerId]);
    expect(hidden.stdout).not.toContain(current?.secret);
    const block = (await cli(["partners", "handover", partnerId, "--json", "--reveal"])).json<{ secret: { value: string; kid: string; location: string } }>();
    expect(block.secret).toEqual({ value: current?.secret, kid: secondKid, location: `Secrets Manager ${prefix}${partnerId}` });
  });

  it("secret end-overlap: needs --yes, then only the current key is accepted", async () => {
    const unconfirmed = await cli(["secret", "end-overlap", partnerId]);
    expect(unconfirmed.code).toBe(4);
    expect((await adapter().getKeys(partnerId)).length).toBe(2);

    const ended = await cli(["secret", "end-overlap", partnerId, "--yes", "--json"]);
    expect(ended.code).toBe(0);
    expect(ended.json()).toMatchObject({ removedFrom: firstKid, current: { kid: secondKid }, previous: null });
    expect((await adapter().getKeys(partnerId)).map((k) => [k.stage, k.kid])).toEqual([["current", secondKid]]);
    expect((await cli(["secret", "show", partnerId, "--json"])).json<ShowJson>().previous).toBeNull();

    const previousToken = mintToken(partnerId, { secret: firstSecret }, Math.floor(Date.now() / 1000));
    const doctor = await cli(["token", "doctor", previousToken, "--json"]);
    expect(doctor.code).toBe(1);
    expect(doctor.json<DoctorReport>().verdict).toMatchObject({ outcome: "refused", code: "TOKEN_SIGNATURE_INVALID", status: 401 });
    expect(await signIn(previousToken)).toEqual({ status: 401, code: "TOKEN_SIGNATURE_INVALID" });

    const again = await cli(["secret", "end-overlap", partnerId, "--yes"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("has no previous version: nothing to do");
  });

  it("secret retire: refused while configured or unconfirmed, then scheduled for deletion", async () => {
    const configured = await cli(["secret", "retire", partnerId, "--yes"]);
    expect(configured.code).toBe(4);
    expect(configured.stderr).toContain("is still in");
    expect((await adapter().getKeys(partnerId)).length).toBe(1);

    expect((await cli(["secret", "retire", leaverId])).code).toBe(4); // no --yes
    const retired = await cli(["secret", "retire", leaverId, "--yes", "--recovery-days", "7", "--json"]);
    expect(retired.code).toBe(0);
    expect(retired.json()).toMatchObject({ secretName: `${prefix}${leaverId}`, recoveryDays: 7 });

    const shown = await cli(["secret", "show", leaverId, "--json"]);
    expect(shown.code).toBe(0);
    expect(shown.json<ShowJson>()).toMatchObject({ status: "scheduled-for-deletion", current: null });
    expect(shown.stderr).toContain(`${leaverId} is not in`);
    // Even if it were configured again, a retired secret is not rotated before it is restored.
    const withLeaver = writeConfig("partners.leaver.json", [partnerId, leaverId]);
    const rotate = await runBuffered(["secret", "rotate", leaverId, "--force", "--env", "staging", "--config", withLeaver, "--secret-prefix", prefix], {
      env: process.env,
    });
    expect(rotate.code).toBe(1);
    expect(rotate.stderr).toContain("is scheduled for deletion");
    expect(rotate.stderr).toContain(`aws secretsmanager restore-secret --secret-id ${prefix}${leaverId}`);
  });

  it("a partner without a secret is a clear error", async () => {
    const configFileWithGhost = writeConfig("partners.ghost.json", [partnerId, "ghost-partner"]);
    const result = await runBuffered(["secret", "show", "ghost-partner", "--env", "staging", "--config", configFileWithGhost, "--secret-prefix", prefix], {
      env: process.env,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: describing jupid-test\/.*ghost-partner: the secret does not exist/);
    expect(result.stderr).toContain("hint: check --env and the secret prefix");
  });
});

describe("secret show | rotate --kind oidc", () => {
  const oidcPartner = `oidc-${run}`;
  const oidcConfig = join(dir, "partners.oidc.staging.json");
  writeFileSync(
    oidcConfig,
    JSON.stringify({
      environment: "staging",
      appUrl: "https://staging.app.jupid.example",
      partners: [{ ...partnerInput(oidcPartner, { allowedOrigins: [ORIGIN] }), oidc: { issuer: "https://id.example", clientId: "jupid" } }],
    }),
  );
  const oidcCli = (argv: string[], stdin?: string) =>
    runBuffered([...argv, "--env", "staging", "--config", oidcConfig, "--secret-prefix", prefix], { env: process.env, ...(stdin === undefined ? {} : { stdin }) });

  it("stores the provider-issued value from stdin where the gateway's adapter reads it, and shows it only with --reveal", async () => {
    expect((await oidcCli(["secret", "show", oidcPartner, "--kind", "oidc"])).code).toBe(1);
    const value = `provider-issued-${randomPartnerSecret()}`;
    const stored = await oidcCli(["secret", "rotate", oidcPartner, "--kind", "oidc"], `${value}\n`);
    expect(stored.code, stored.stderr).toBe(0);
    expect(stored.stdout).not.toContain(value);
    expect(await adapter().getOidcClientSecret(oidcPartner)).toBe(value);
    const hidden = await oidcCli(["secret", "show", oidcPartner, "--kind", "oidc"]);
    expect(hidden.code).toBe(0);
    expect(hidden.stdout).not.toContain(value);
    const revealed = await oidcCli(["secret", "show", oidcPartner, "--kind", "oidc", "--json", "--reveal"]);
    expect(revealed.json()).toMatchObject({ kind: "oidc", present: true, secret: value });

    const next = `provider-issued-${randomPartnerSecret()}`;
    expect((await oidcCli(["secret", "rotate", oidcPartner, "--kind", "oidc"], next)).code).toBe(0);
    expect(await adapter().getOidcClientSecret(oidcPartner)).toBe(next);
    // The signing key of the same partner is another secret entirely.
    expect(await adapter().getKeys(oidcPartner)).toEqual([]);
  });

  it("refuses an empty stdin and a partner without an oidc block", async () => {
    expect((await oidcCli(["secret", "rotate", oidcPartner, "--kind", "oidc"], "")).code).toBe(2);
    const none = await cli(["secret", "rotate", partnerId, "--kind", "oidc"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no oidc block");
  });
});
