/**
 * `partners list | show | handover` (and `secret show` for env local) against
 * the real partner files, temporary ones, and a local gateway that proves the
 * handed-over values work as a partner would use them.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConfigError, loadEnvironmentConfig } from "../../config/schema.ts";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { runBuffered } from "../../lib/operator/buffered-io.ts";
import type { Handover } from "../../lib/operator/handover.ts";
import { signEmbedToken } from "../../sdk/src/server.ts";
import { partnerInput } from "../fixtures/partners.ts";
import { OTHER_SECRET, TEST_SECRET } from "../fixtures/tokens.ts";
import { postFrameSignIn } from "../fixtures/dpop.ts";

const dir = mkdtempSync(join(tmpdir(), "jupid-cli-partners-"));
const secretsFile = join(dir, "secrets.local.json");
writeFileSync(secretsFile, JSON.stringify({ "acme-books": TEST_SECRET, globex: OTHER_SECRET }));
const localEnv = { JUPID_LOCAL_SECRETS: secretsFile };

function writeConfig(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value, null, 2));
  return file;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("partners list", () => {
  it("lists the local partners from config/partners.local.json by default", async () => {
    const run = await runBuffered(["partners", "list"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/3 partner\(s\) in .*config\/partners\.local\.json \(local, http:\/\/127\.0\.0\.1:4000\)/);
    expect(run.stdout).toMatch(/^ID\s+NAME\s+ENABLED\s+MAX TTL\s+SHELL\s+ORIGINS$/m);
    expect(run.stdout).toMatch(/^initech\s+Initech \(disabled\)\s+no\s+300s\s+full\s+http:\/\/localhost:3002$/m);
    expect(run.stdout).toMatch(/^globex\s+Globex Payroll\s+yes\s+120s\s+minimal\s+http:\/\/localhost:3001$/m);
  });

  it("--json gives the environment and one entry per partner", async () => {
    const run = await runBuffered(["partners", "list", "--env", "production", "--json"]);
    expect(run.code).toBe(0);
    const production = loadEnvironmentConfig(join(process.cwd(), "config", "partners.production.json"));
    expect(run.json()).toEqual({
      environment: "production",
      file: expect.stringMatching(/config\/partners\.production\.json$/),
      appUrl: production.appUrl,
      partners: production.partners.map((p) => ({
        id: p.id,
        displayName: p.displayName,
        enabled: p.enabled,
        allowedOrigins: p.allowedOrigins,
        maxTokenLifetimeSeconds: p.maxTokenLifetimeSeconds,
      })),
    });
  });

  it("honours JUPID_ENV and JUPID_PARTNERS_FILE like npm start", async () => {
    expect((await runBuffered(["partners", "list", "--json"], { env: { JUPID_ENV: "staging" } })).json()).toMatchObject({ environment: "staging" });
    const file = writeConfig("partners.custom.json", {
      environment: "integration",
      appUrl: "http://127.0.0.1:4555",
      partners: [partnerInput("custom-one")],
    });
    const run = await runBuffered(["partners", "list", "--json"], { env: { JUPID_PARTNERS_FILE: file } });
    expect(run.json()).toMatchObject({ environment: "integration", file, partners: [{ id: "custom-one" }] });
  });

  it("shows validation errors exactly as the loader reports them, and exits 3", async () => {
    const file = writeConfig("partners.invalid.json", {
      environment: "production",
      appUrl: "https://app.jupid.com",
      partners: [
        partnerInput("acme-books", { allowedOrigins: ["http://localhost:3000"] }),
        partnerInput("globex", { maxTokenLifetimeSeconds: 3600 }),
      ],
    });
    let expected = "";
    try {
      loadEnvironmentConfig(file);
    } catch (error) {
      expected = (error as ConfigError).message;
    }
    expect(expected).toContain('partner "acme-books" field allowedOrigins.0');
    expect(expected).toContain('partner "globex" field maxTokenLifetimeSeconds');

    const run = await runBuffered(["partners", "list", "--config", file]);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(`error: ${expected}\n`);

    const json = await runBuffered(["partners", "list", "--config", file, "--json"]);
    expect(json.code).toBe(3);
    expect(json.json()).toEqual({ error: { code: "CONFIG_INVALID", message: expected } });
  });

  it("reports unreadable and non-JSON files the loader's way", async () => {
    const missing = await runBuffered(["partners", "list", "--config", join(dir, "nope.json")]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("cannot read partner configuration");
    const broken = await runBuffered(["partners", "list", "--config", writeConfig("broken.json", "{ not json")]);
    expect(broken.code).toBe(3);
    expect(broken.stderr).toContain("not valid JSON");
  });

  it("refuses a --config of another environment than --env", async () => {
    const run = await runBuffered(["partners", "list", "--env", "production", "--config", join(process.cwd(), "config", "partners.staging.json")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is the partner file of environment "staging", not "production"');
  });
});

describe("partners show", () => {
  it("prints the partner with schema defaults applied and its URLs", async () => {
    const run = await runBuffered(["partners", "show", "acme-books", "--env", "staging"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^First-run path\s+\/onboarding\/connect-accounts$/m); // default, not in the file
    expect(run.stdout).toMatch(/^Max token TTL\s+300 s$/m);
    expect(run.stdout).toMatch(/^Embed page\s+https:\/\/staging\.app\.jupid\.com\/embed\/acme-books$/m);
    expect(run.stdout).toMatch(/^Secret\s+Secrets Manager jupid-embed\/staging\/partners\/acme-books$/m);
    expect(run.stdout).toMatch(/^\s+http:\/\/localhost:3000$/m); // second origin on its own line
  });

  it("prints the local URLs on the port npm start really uses (JUPID_PORT)", async () => {
    const run = await runBuffered(["partners", "show", "acme-books", "--env", "local"], { env: { ...localEnv, JUPID_PORT: "4555" } });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Embed page\s+http:\/\/127\.0\.0\.1:4555\/embed\/acme-books$/m);
    expect(run.stdout).not.toContain(":4000");
    const handover = await runBuffered(["partners", "handover", "acme-books", "--env", "local", "--json"], {
      env: { ...localEnv, JUPID_PORT: "4555" },
    });
    expect(handover.json()).toMatchObject({ appUrl: "http://127.0.0.1:4555", embedJsUrl: "http://127.0.0.1:4555/embed.js" });
    // Other environments keep their configured app URL.
    const staging = await runBuffered(["partners", "show", "acme-books", "--env", "staging"], { env: { JUPID_PORT: "4555" } });
    expect(staging.stdout).toMatch(/^Embed page\s+https:\/\/staging\.app\.jupid\.com\/embed\/acme-books$/m);
    expect((await runBuffered(["partners", "list"], { env: { JUPID_PORT: "port" } })).code).not.toBe(0);
  });

  it("--json carries the full parsed config", async () => {
    const run = await runBuffered(["partners", "show", "globex", "--env", "local", "--json"], { env: localEnv });
    expect(run.json()).toMatchObject({
      environment: "local",
      partner: { id: "globex", enabled: true, allowedPaths: ["/dashboard", "/reports", "/onboarding"], maxTokenLifetimeSeconds: 120 },
      urls: { embedPage: "http://127.0.0.1:4000/embed/globex", embedJs: "http://127.0.0.1:4000/embed.js" },
      secret: secretsFile,
    });
  });

  it("an unknown partner exits 1 and names the known ones", async () => {
    const run = await runBuffered(["partners", "show", "nobody", "--env", "staging"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no partner "nobody"');
    expect(run.stderr).toContain("partners of staging: acme-books, globex");
  });
});

describe("partners handover", () => {
  let gateway: RunningGateway;
  let configFile: string;

  beforeAll(async () => {
    setLogSink(() => {});
    // The gateway listens on a random port; the partner file's appUrl says where, as a deployed stack's would.
    const config = (url: string) => ({
      environment: "local",
      appUrl: url,
      workspaceBasePath: "/app",
      partners: [
        partnerInput("acme-books", { allowedOrigins: ["http://localhost:3000", "http://127.0.0.1:3000"] }),
        partnerInput("globex", { enabled: false }),
      ],
    });
    configFile = writeConfig("partners.handover.json", config("http://127.0.0.1:4000"));
    gateway = await startGateway({ config: loadEnvironmentConfig(configFile), secrets: { "acme-books": TEST_SECRET, globex: OTHER_SECRET }, port: 0 });
    configFile = writeConfig("partners.handover.json", config(gateway.url));
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const handover = (extra: string[], options: { tty?: boolean } = {}) =>
    runBuffered(["partners", "handover", "acme-books", "--config", configFile, ...extra], { env: localEnv, ...options });

  it("hides the secret when stdout is not a terminal and says how to reveal it", async () => {
    const run = await handover([]);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(TEST_SECRET);
    expect(run.stdout).toContain("(hidden) re-run on a terminal or with --reveal: jupid-embed partners handover acme-books --env local --reveal");
    for (const value of ["Partner ID       acme-books", `App URL          ${gateway.url}`, `embed.js         ${gateway.url}/embed.js`]) {
      expect(run.stdout).toContain(value);
    }
    expect(run.stdout).toContain("Audience (aud)   jupid-embed");
    expect(run.stdout).toMatch(/Allowed origins\s+http:\/\/localhost:3000\n\s+http:\/\/127\.0\.0\.1:3000/);
    expect(run.stdout).toMatch(/exp\s+required\s+integer seconds; exp - iat <= 300/);
    expect(run.stdout).toContain("GET /api/jupid/embed-token");
  });

  it("prints the secret on a terminal or with --reveal; --json only with --reveal", async () => {
    expect((await handover([], { tty: true })).stdout).toContain(TEST_SECRET);
    expect((await handover(["--reveal"])).stdout).toContain(TEST_SECRET);
    const hidden = await handover(["--json"], { tty: true });
    expect(hidden.stdout).not.toContain(TEST_SECRET);
    expect(hidden.json<Handover>().secret).toEqual({ location: secretsFile, revealHint: expect.stringContaining("--reveal") });
  });

  it("the handed-over values work: embed page, redirect entry, and a token signed with the secret", async () => {
    const block = (await handover(["--json", "--reveal"])).json<Handover>();
    expect(block).toMatchObject({
      environment: "local",
      partnerId: "acme-books",
      appUrl: gateway.url,
      embedJsUrl: `${gateway.url}/embed.js`,
      audience: "jupid-embed",
      allowedOrigins: ["http://localhost:3000", "http://127.0.0.1:3000"],
      token: { algorithm: "HS256", issuer: "acme-books", audience: "jupid-embed", maxLifetimeSeconds: 300, clockToleranceSeconds: 30 },
      tokenEndpoint: { method: "GET", path: "/api/jupid/embed-token" },
      secret: { value: TEST_SECRET, location: secretsFile },
    });
    const page = await fetch(block.embedPageUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain(`frame-ancestors ${block.allowedOrigins.join(" ")}`);
    expect((await fetch(block.redirectEntryUrl)).status).toBe(200);

    const token = await signEmbedToken({ partnerId: block.partnerId, secret: block.secret.value!, user: { id: "handover-user" } });
    const session = await postFrameSignIn(block.appUrl, block.partnerId, { token, parentOrigin: block.allowedOrigins[0] });
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ firstRun: true });
  });

  it("warns about a disabled partner", async () => {
    const run = await runBuffered(["partners", "handover", "globex", "--config", configFile], { env: localEnv });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("DISABLED in this environment");
    expect(run.stderr).toContain("warning: globex is disabled in local");
  });

  it("for an AWS environment without --reveal needs no AWS access", async () => {
    const run = await runBuffered(["partners", "handover", "globex", "--env", "production"], { env: {} });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("App URL          https://app.jupid.com");
    expect(run.stdout).toContain("Jupid keeps it in Secrets Manager jupid-embed/production/partners/globex");
    expect(run.stdout).toMatch(/exp\s+required\s+integer seconds; exp - iat <= \d+/);
  });

  it("with --reveal and no local secrets file says to run npm start", async () => {
    const run = await runBuffered(["partners", "handover", "acme-books", "--env", "local", "--reveal"], {
      env: { JUPID_LOCAL_SECRETS: join(dir, "missing.json") },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("no local secrets file");
    expect(run.stderr).toContain("npm start");
  });
});

describe("secret show --env local", () => {
  it("shows the local key, with the value only on request", async () => {
    const hidden = await runBuffered(["secret", "show", "acme-books", "--env", "local", "--json"], { env: localEnv, tty: true });
    expect(hidden.code).toBe(0);
    expect(hidden.json()).toEqual({ environment: "local", partnerId: "acme-books", file: secretsFile, current: { kid: "local" }, previous: null });
    const shown = await runBuffered(["secret", "show", "acme-books", "--env", "local", "--json", "--reveal"], { env: localEnv });
    expect(shown.json()).toMatchObject({ secret: TEST_SECRET });
    const text = await runBuffered(["secret", "show", "acme-books", "--env", "local"], { env: localEnv });
    expect(text.stdout).not.toContain(TEST_SECRET);
  });

  it("rotate, end-overlap and retire refuse env local and say what to do instead", async () => {
    for (const command of ["rotate", "end-overlap", "retire"]) {
      const run = await runBuffered(["secret", command, "acme-books", "--env", "local", ...(command === "rotate" ? [] : ["--yes"])], {
        env: localEnv,
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("env local keeps partner secrets in");
    }
  });
});
