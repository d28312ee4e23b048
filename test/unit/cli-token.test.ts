/**
 * `token mint` and `token doctor` through the CLI, against a local gateway
 * that shares their partner file, secrets file and frozen clock: minted
 * tokens sign in, and for every kind of broken request the doctor's verdict
 * is exactly the gateway's answer (status and code).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnvironmentConfig } from "../../config/schema.ts";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { runBuffered } from "../../lib/operator/buffered-io.ts";
import type { DoctorReport } from "../../lib/operator/doctor.ts";
import { partnerInput } from "../fixtures/partners.ts";
import { mintToken, NOW, NOW_S, OTHER_SECRET, signRaw, TEST_SECRET } from "../fixtures/tokens.ts";
import { postFrameSignIn } from "../fixtures/dpop.ts";

const ORIGIN = "http://localhost:3000";
const dir = mkdtempSync(join(tmpdir(), "jupid-cli-token-"));
const secretsFile = join(dir, "secrets.local.json");
const configFile = join(dir, "partners.local.json");
writeFileSync(secretsFile, JSON.stringify({ acme: TEST_SECRET, globex: TEST_SECRET, initech: TEST_SECRET }));
writeFileSync(
  configFile,
  JSON.stringify({
    environment: "local",
    appUrl: "http://127.0.0.1:4000",
    workspaceBasePath: "/app",
    partners: [
      partnerInput("acme", { allowedOrigins: [ORIGIN] }),
      partnerInput("globex", { allowedOrigins: [ORIGIN], allowedPaths: ["/dashboard"], maxTokenLifetimeSeconds: 120 }),
      partnerInput("initech", { allowedOrigins: [ORIGIN], enabled: false }),
    ],
  }),
);
const cliEnv = { JUPID_LOCAL_SECRETS: secretsFile, JUPID_PARTNERS_FILE: configFile };
const cli = (argv: string[], options: { stdin?: string; now?: number } = {}) =>
  runBuffered(argv, { env: cliEnv, now: () => options.now ?? NOW, ...(options.stdin === undefined ? {} : { stdin: options.stdin }) });

let gateway: RunningGateway;

beforeAll(async () => {
  setLogSink(() => {});
  gateway = await startGateway({
    config: loadEnvironmentConfig(configFile),
    secrets: { acme: TEST_SECRET, globex: TEST_SECRET, initech: TEST_SECRET },
    port: 0,
    clock: () => NOW,
  });
});

afterAll(async () => {
  await gateway?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(partnerId: string, token: string, origin = ORIGIN, initialPath?: string) {
  const response = await postFrameSignIn(gateway.url, partnerId, { token, parentOrigin: origin, ...(initialPath === undefined ? {} : { initialPath }) });
  const body = (await response.json()) as { error?: { code: string }; firstRun?: boolean; redirectTo?: string };
  return { status: response.status, code: body.error?.code, body };
}

describe("token mint", () => {
  it("prints only the token on stdout; the gateway turns it into a session", async () => {
    const run = await cli(["token", "mint", "acme", "--sub", "mint-user-1", "--email", "ada@example.com", "--name", "Ada", "--payload", '{"plan":"pro"}']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    expect(run.stderr).toContain(`signing for acme with the current key from ${secretsFile}`);
    const token = run.stdout.trim();
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
    expect(decodeJwt(token)).toMatchObject({
      iss: "acme",
      aud: "jupid-embed",
      sub: "mint-user-1",
      email: "ada@example.com",
      name: "Ada",
      payload: { plan: "pro" },
      iat: NOW_S,
      exp: NOW_S + 300,
    });
    const session = await signIn("acme", token);
    expect(session).toMatchObject({ status: 200, body: { firstRun: true } });
  });

  it("defaults the lifetime to the partner's maximum and honours --ttl and --kid", async () => {
    const globex = await cli(["token", "mint", "globex", "--sub", "g1"]);
    expect(decodeJwt(globex.stdout.trim())).toMatchObject({ iat: NOW_S, exp: NOW_S + 120 });
    expect((await signIn("globex", globex.stdout.trim())).status).toBe(200);

    const short = await cli(["token", "mint", "acme", "--sub", "k1", "--ttl", "45", "--kid", "local", "--json"]);
    const minted = short.json<{ token: string; iat: number; exp: number; kid: string; expiresAt: string }>();
    expect(minted).toMatchObject({ partnerId: "acme", environment: "local", iat: NOW_S, exp: NOW_S + 45, kid: "local" });
    expect(decodeProtectedHeader(minted.token)).toEqual({ alg: "HS256", typ: "JWT", kid: "local" });
    expect((await signIn("acme", minted.token)).status).toBe(200); // the local gateway's key id is "local"
  });

  it("warns when --ttl exceeds the partner's maximum, and the gateway indeed refuses it", async () => {
    const run = await cli(["token", "mint", "globex", "--sub", "g2", "--ttl", "300"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("warning: --ttl 300 exceeds globex's maxTokenLifetimeSeconds (120)");
    expect((await signIn("globex", run.stdout.trim())).code).toBe("TOKEN_LIFETIME_TOO_LONG");
  });

  it("signs with --secret-file (plain, one trailing newline dropped) even for an unconfigured partner", async () => {
    const file = join(dir, "acme.secret");
    writeFileSync(file, `${TEST_SECRET}\n`);
    const run = await cli(["token", "mint", "acme", "--sub", "file-user", "--secret-file", file]);
    expect(run.code).toBe(0);
    expect((await signIn("acme", run.stdout.trim())).status).toBe(200);

    const other = await cli(["token", "mint", "someone-else", "--sub", "x", "--secret-file", file]);
    expect(other.code).toBe(0);
    expect(other.stderr).toContain("someone-else is not configured in local");
    expect(decodeJwt(other.stdout.trim()).iss).toBe("someone-else");
  });

  it("refuses an unknown partner without --secret-file, and warns for a disabled one", async () => {
    const unknown = await cli(["token", "mint", "nobody", "--sub", "x"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no partner "nobody"');
    const disabled = await cli(["token", "mint", "initech", "--sub", "x"]);
    expect(disabled.code).toBe(0);
    expect(disabled.stderr).toContain("initech is disabled in local");
    expect((await signIn("initech", disabled.stdout.trim())).code).toBe("PARTNER_DISABLED");
  });

  it("says how to get a secret when the local secrets file is missing", async () => {
    const run = await runBuffered(["token", "mint", "acme", "--sub", "x"], {
      env: { JUPID_PARTNERS_FILE: configFile, JUPID_LOCAL_SECRETS: join(dir, "none.json") },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("run `npm start` once");
  });
});

interface Case {
  readonly name: string;
  readonly partner: string;
  readonly token: () => string;
  readonly origin?: string;
  readonly path?: string;
}

const longPayload = { blob: "x".repeat(7000) };
const CASES: readonly Case[] = [
  { name: "a valid token", partner: "acme", token: () => mintToken("acme") },
  { name: "a valid token with an allowed initialPath", partner: "globex", token: () => mintToken("globex", { claims: { exp: NOW_S + 100 } }), path: "/dashboard/q1" },
  { name: "an expired token", partner: "acme", token: () => mintToken("acme", { claims: { iat: NOW_S - 400, exp: NOW_S - 100 } }) },
  { name: "a token just inside the expiry tolerance", partner: "acme", token: () => mintToken("acme", { claims: { iat: NOW_S - 200, exp: NOW_S - 30 } }) },
  { name: "a token just outside the expiry tolerance", partner: "acme", token: () => mintToken("acme", { claims: { iat: NOW_S - 200, exp: NOW_S - 31 } }) },
  { name: "a token from a fast clock", partner: "acme", token: () => mintToken("acme", { claims: { iat: NOW_S + 31, exp: NOW_S + 200 } }) },
  { name: "a too long lifetime", partner: "globex", token: () => mintToken("globex", { claims: { exp: NOW_S + 121 } }) },
  { name: "the wrong issuer", partner: "acme", token: () => mintToken("globex") },
  { name: "an audience array", partner: "acme", token: () => mintToken("acme", { claims: { aud: ["jupid-embed"] } }) },
  { name: "no sub", partner: "acme", token: () => mintToken("acme", { omit: ["sub"] }) },
  { name: "no jti", partner: "acme", token: () => mintToken("acme", { omit: ["jti"] }) },
  { name: "a bad email", partner: "acme", token: () => mintToken("acme", { claims: { email: "not-an-email" } }) },
  { name: "iat in milliseconds", partner: "acme", token: () => mintToken("acme", { claims: { iat: NOW, exp: NOW + 300_000 } }) },
  { name: "the wrong secret", partner: "acme", token: () => mintToken("acme", { secret: OTHER_SECRET }) },
  { name: "an unknown kid", partner: "acme", token: () => mintToken("acme", { header: { kid: "2024-01" } }) },
  { name: "alg HS512", partner: "acme", token: () => mintToken("acme", { header: { alg: "HS512" } }) },
  { name: "no typ", partner: "acme", token: () => signRaw('{"alg":"HS256"}', JSON.stringify({ iss: "acme" })) },
  { name: "a jwk header", partner: "acme", token: () => mintToken("acme", { header: { jwk: { kty: "oct" } } }) },
  { name: "duplicate claims", partner: "acme", token: () => signRaw('{"alg":"HS256","typ":"JWT"}', '{"iss":"acme","iss":"acme"}') },
  { name: "not a JWT at all", partner: "acme", token: () => "definitely-not-a-token" },
  { name: "a token over 8 KB", partner: "acme", token: () => mintToken("acme", { claims: { payload: longPayload, name: "y".repeat(200) } }) },
  { name: "a payload over 4 KB", partner: "acme", token: () => mintToken("acme", { claims: { payload: { blob: "x".repeat(4200) } } }) },
  { name: "an origin not on the allowlist", partner: "acme", token: () => mintToken("acme"), origin: "https://evil.example" },
  { name: "a path outside allowedPaths", partner: "globex", token: () => mintToken("globex", { claims: { exp: NOW_S + 100 } }), path: "/admin" },
  { name: "a disabled partner", partner: "initech", token: () => mintToken("initech") },
  { name: "an unknown partner", partner: "nobody", token: () => mintToken("nobody") },
];

describe("token doctor agrees with the gateway", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const token = c.token();
    const origin = c.origin ?? ORIGIN;
    const args = ["token", "doctor", token, "--partner", c.partner, "--origin", origin, ...(c.path ? ["--path", c.path] : [])];
    const doctor = await cli([...args, "--json"]);
    const report = doctor.json<DoctorReport>();
    const gatewayAnswer = await signIn(c.partner, token, origin, c.path);

    if (gatewayAnswer.status === 200) {
      expect(report.verdict).toEqual({ outcome: "pass", status: 200 });
      expect(report.ok).toBe(true);
      expect(doctor.code).toBe(0);
    } else {
      expect(report.verdict).toMatchObject({ outcome: "refused", status: gatewayAnswer.status, code: gatewayAnswer.code });
      expect(report.ok).toBe(false);
      expect(doctor.code).toBe(1);
      // The rule that failed is named with the same code.
      expect(report.checks.some((check) => check.status === "fail" && check.code === gatewayAnswer.code)).toBe(true);
    }

    const human = await cli(args);
    expect(human.code).toBe(doctor.code);
    for (const output of [doctor.stdout, human.stdout, human.stderr]) {
      expect(output).not.toContain(TEST_SECRET);
      if (token.includes(".")) expect(output).not.toContain(token.split(".").at(-1));
      expect(output).not.toContain(token);
    }
  });

  it("explains the failing rule in the human report", async () => {
    const run = await cli(["token", "doctor", mintToken("acme", { claims: { iat: NOW_S - 400, exp: NOW_S - 100 } }), "--origin", ORIGIN]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^ {2}ok {4}partner {4}acme \(Partner acme\) is configured in local and enabled$/m);
    expect(run.stdout).toMatch(/^ {2}ok {4}signature {2}matches the current key \(kid local\)$/m);
    expect(run.stdout).toMatch(/^ {2}FAIL {2}time {7}TOKEN_EXPIRED: token has expired; the token has iat .* exp .* \(1m 40s ago\)/m);
    expect(run.stdout).toContain("mint it when the page asks for it");
    expect(run.stdout).toMatch(/REFUSED: the gateway would answer 401 TOKEN_EXPIRED: token has expired\n$/);
  });

  it("reads the token from stdin with '-'", async () => {
    const run = await cli(["token", "doctor", "-", "--origin", ORIGIN, "--json"], { stdin: `${mintToken("acme")}\n` });
    expect(run.code).toBe(0);
    expect(run.json<DoctorReport>()).toMatchObject({ ok: true, partnerId: "acme", environment: "local", keySource: secretsFile });
  });

  it("evaluates at another time with --at (an expired token passes at its issue time)", async () => {
    const token = mintToken("acme", { claims: { iat: NOW_S - 4000, exp: NOW_S - 3800 } });
    expect((await cli(["token", "doctor", token, "--json"])).json<DoctorReport>().verdict).toMatchObject({ code: "TOKEN_EXPIRED" });
    const then = await cli(["token", "doctor", token, "--at", new Date((NOW_S - 3900) * 1000).toISOString(), "--json"]);
    expect(then.code).toBe(0);
    expect(then.json<DoctorReport>().at).toBe(new Date((NOW_S - 3900) * 1000).toISOString());
    expect((await cli(["token", "doctor", token, "--at", String(NOW_S - 3900)])).code).toBe(0);
  });

  it("checks the signature with --secret-file", async () => {
    const file = join(dir, "other.secret");
    writeFileSync(file, OTHER_SECRET);
    const token = mintToken("acme", { secret: OTHER_SECRET });
    const run = await cli(["token", "doctor", token, "--secret-file", file, "--json"]);
    expect(run.code).toBe(0);
    expect(run.json<DoctorReport>()).toMatchObject({ ok: true, keySource: file });
  });

  it("without a key decides what it can and exits 1 (inconclusive)", async () => {
    const noKeys = { JUPID_PARTNERS_FILE: configFile, JUPID_LOCAL_SECRETS: join(dir, "none.json") };
    const valid = await runBuffered(["token", "doctor", mintToken("acme"), "--json"], { env: noKeys, now: () => NOW });
    expect(valid.code).toBe(1);
    expect(valid.json<DoctorReport>().verdict).toMatchObject({ outcome: "inconclusive", message: expect.stringContaining("no local secrets file") });
    const expired = await runBuffered(["token", "doctor", mintToken("acme", { claims: { iat: NOW_S - 900, exp: NOW_S - 800 } }), "--json"], {
      env: noKeys,
      now: () => NOW,
    });
    expect(expired.json<DoctorReport>().verdict).toMatchObject({ outcome: "inconclusive", code: "TOKEN_EXPIRED" });
    // Structure and header come before the signature at the gateway too, so those verdicts are exact.
    const malformed = await runBuffered(["token", "doctor", "a.b", "--partner", "acme", "--json"], { env: noKeys, now: () => NOW });
    expect(malformed.json<DoctorReport>().verdict).toMatchObject({ outcome: "refused", code: "TOKEN_MALFORMED", status: 400 });
  });
});
