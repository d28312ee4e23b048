/** `partners oidc-check` against a real OpenID provider on loopback: what it reports and its exit status. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBuffered } from "../../lib/operator/buffered-io.ts";
import { partnerInput } from "../fixtures/partners.ts";
import { startTestProvider, type TestProvider } from "../support/oidc-provider.ts";

const APP_URL = "http://127.0.0.1:4000";
const dir = mkdtempSync(join(tmpdir(), "jupid-cli-oidc-"));
let provider: TestProvider;

function configWith(oidc: Record<string, unknown> | undefined): string {
  const file = join(dir, `partners-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ environment: "local", appUrl: APP_URL, partners: [{ ...partnerInput("acme"), ...(oidc ? { oidc } : {}) }] }));
  return file;
}

beforeAll(async () => {
  provider = await startTestProvider({ appUrl: APP_URL, partnerId: "acme" });
});

afterAll(async () => {
  await provider?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("partners oidc-check", () => {
  it("passes a working configuration and prints the URIs to register", async () => {
    const run = await runBuffered(["partners", "oidc-check", "acme", "--config", configWith({ issuer: provider.issuer, clientId: provider.clientId })]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("PAR is used");
    expect(run.stdout).toMatch(/Redirect URI\s+http:\/\/127\.0\.0\.1:4000\/partner\/acme\/oidc\/callback/);
    expect(run.stdout).toMatch(/Initiate login URI\s+http:\/\/127\.0\.0\.1:4000\/partner\/acme\/oidc\/login/);
    expect(run.stdout).toMatch(/Back-channel logout URI\s+http:\/\/127\.0\.0\.1:4000\/partner\/acme\/oidc\/backchannel-logout/);
    expect(run.stdout).toContain("Sign-ins can work.");
  });

  it("warns about a scope the provider does not advertise, as JSON too", async () => {
    const run = await runBuffered(["partners", "oidc-check", "acme", "--json", "--config", configWith({ issuer: provider.issuer, clientId: "x", scopes: ["openid", "payroll"] })]);
    expect(run.code).toBe(0);
    const json = run.json<{ usable: boolean; findings: { level: string; subject: string; message: string }[] }>();
    expect(json.usable).toBe(true);
    expect(json.findings).toContainEqual({ level: "warning", subject: "scopes_supported", message: expect.stringContaining('"payroll"') });
  });

  it("fails (exit 1) when the issuer is not exactly the one the provider names", async () => {
    // The same server under another name: its metadata says 127.0.0.1, the config says localhost.
    const issuer = provider.issuer.replace("127.0.0.1", "localhost");
    const run = await runBuffered(["partners", "oidc-check", "acme", "--config", configWith({ issuer, clientId: "x" })]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/ERROR\s+discovery\s+.*unusable metadata/);
  });

  it("fails (exit 1) when the provider cannot be reached, and when the partner has no oidc block", async () => {
    const down = await startTestProvider({ appUrl: APP_URL, partnerId: "acme" });
    await down.close();
    const unreachable = await runBuffered(["partners", "oidc-check", "acme", "--config", configWith({ issuer: down.issuer, clientId: "x" })]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stdout).toContain("cannot be reached");
    const none = await runBuffered(["partners", "oidc-check", "acme", "--config", configWith(undefined)]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no oidc block");
  });
});
