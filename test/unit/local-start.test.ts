/**
 * `npm start` as a newcomer runs it: the real entry point in its own process,
 * then a token minted with the secret from JUPID_LOCAL_SECRETS becomes a session.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnvironmentConfig } from "../../config/schema.ts";
import { ensureLocalSecrets, withExtraOrigins } from "../../lambdas/local/main.ts";
import { mintToken } from "../fixtures/tokens.ts";
import { postFrameSignIn } from "../fixtures/dpop.ts";
import { TestBrowser } from "../support/oidc-provider.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");
let child: ChildProcess;
let output = "";
let gatewayUrl = "";
let partnerUrl = "";
const dir = mkdtempSync(join(tmpdir(), "jupid-start-"));
const secretsFile = join(dir, "secrets.json");
/** The partner engineer's own dev site, added with `npm start -- --origin`. */
const DEV_SITE = "http://localhost:8000";

beforeAll(async () => {
  child = spawn(join(ROOT, "node_modules", ".bin", "tsx"), ["lambdas/local/main.ts", "--origin", DEV_SITE], {
    cwd: ROOT,
    env: { ...process.env, JUPID_PORT: "0", PARTNER_PORT: "0", OIDC_PORT: "0", JUPID_LOCAL_SECRETS: secretsFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const gateway = /Jupid local gateway\s+(http:\/\/\S+)/.exec(output);
    const partner = /Demo partner site\s+(http:\/\/\S+)/.exec(output);
    if (gateway && partner) {
      gatewayUrl = gateway[1] as string;
      partnerUrl = partner[1] as string;
      return;
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`npm start did not come up:\n${output}`);
});

afterAll(() => {
  child?.kill("SIGTERM");
});

describe("npm start", () => {
  it("creates the local secrets file (0600) with a secret per partner", () => {
    const secrets = JSON.parse(readFileSync(secretsFile, "utf8"));
    expect(Object.keys(secrets)).toEqual(["acme-books", "globex", "initech"]);
    expect(secrets["acme-books"].length).toBeGreaterThanOrEqual(32);
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
  });

  it("turns a token minted with that secret into a session (the curl flow)", async () => {
    const secret = JSON.parse(readFileSync(secretsFile, "utf8"))["acme-books"];
    const token = mintToken("acme-books", { secret, claims: { iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300 } });
    const response = await postFrameSignIn(gatewayUrl, "acme-books", { token, parentOrigin: "http://localhost:3000" });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ firstRun: true, redirectTo: "/embed/acme-books/app/onboarding/connect-accounts" });
    expect(output).not.toContain(secret);
    expect(output).not.toContain(token.split(".")[2]);
  });

  it("allows the demo site's own origin on its random PARTNER_PORT and the --origin, for this run only", async () => {
    expect(partnerUrl).not.toBe("http://localhost:3000");
    const csp = (await fetch(`${gatewayUrl}/embed/acme-books`)).headers.get("content-security-policy") ?? "";
    const ancestors = /frame-ancestors ([^;]+)/.exec(csp)?.[1]?.split(" ");
    expect(ancestors).toEqual(expect.arrayContaining([partnerUrl, DEV_SITE, "http://localhost:3000"]));
    expect(output).toContain(`Origins of acme-books  http://localhost:3000 http://127.0.0.1:3000 ${partnerUrl} ${DEV_SITE}`);
    // The partner file is untouched.
    expect(readFileSync(join(ROOT, "config", "partners.local.json"), "utf8")).not.toContain(DEV_SITE);
  });

  it("serves embed.js and the demo partner page", async () => {
    expect((await fetch(`${gatewayUrl}/embed.js`)).status).toBe(200);
    const page = await fetch(partnerUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("/embed.js");
  });

  it("offers the OIDC path: the partner page links to Jupid's login initiation, which sends the browser to Acme ID's login", async () => {
    const page = await (await fetch(partnerUrl)).text();
    const href = /<a id="oidc-login" href="([^"]+)">Sign in to Jupid with Acme<\/a>/.exec(page)?.[1]?.replaceAll("&amp;", "&");
    expect(href, "the demo partner's login page links to the OIDC entrypoint").toMatch(new RegExp(`^${gatewayUrl}/partner/acme-books/oidc/login\\?iss=`));
    const issuer = /Acme ID \(OIDC\)\s+(http:\/\/\S+)/.exec(output)?.[1] as string;
    const browser = new TestBrowser();
    const { url, response } = await browser.navigate(href as string);
    expect(new URL(url).origin).toBe(issuer);
    expect(response?.status).toBe(200);
    expect(await response?.text()).toContain("Acme ID");
  });
});

describe("ensureLocalSecrets", () => {
  it("never rewrites a secrets file it was given: missing partners get a secret for this run only", () => {
    const given = join(dir, "given.json");
    const text = `${JSON.stringify({ "acme-books": "a".repeat(43) })}\n`;
    writeFileSync(given, text, { mode: 0o640 });
    const { secrets, ephemeral } = ensureLocalSecrets(given, ["acme-books", "globex"], { owned: false });
    expect(secrets["acme-books"]).toBe("a".repeat(43));
    expect(secrets.globex?.length).toBeGreaterThanOrEqual(32);
    expect(ephemeral).toEqual(["globex"]);
    expect(readFileSync(given, "utf8")).toBe(text);
    expect(statSync(given).mode & 0o777).toBe(0o640);
  });

  it("creates a given file that does not exist yet, and extends its own default file", () => {
    const fresh = join(dir, "fresh.json");
    expect(ensureLocalSecrets(fresh, ["acme-books"], { owned: false }).ephemeral).toEqual([]);
    expect(Object.keys(JSON.parse(readFileSync(fresh, "utf8")))).toEqual(["acme-books"]);
    const own = ensureLocalSecrets(fresh, ["acme-books", "globex"], { owned: true });
    expect(own.ephemeral).toEqual([]);
    expect(Object.keys(JSON.parse(readFileSync(fresh, "utf8")))).toEqual(["acme-books", "globex"]);
  });
});

describe("withExtraOrigins", () => {
  const config = loadEnvironmentConfig(join(ROOT, "config", "partners.local.json"));

  it("adds origins to one partner only, once each", () => {
    const next = withExtraOrigins(config, "acme-books", ["http://localhost:8000", "http://localhost:3000"]);
    expect(next.partners.find((p) => p.id === "acme-books")?.allowedOrigins).toEqual([
      "http://localhost:3000",
      "http://127.0.0.1:3000",
      "http://localhost:8000",
    ]);
    expect(next.partners.find((p) => p.id === "globex")?.allowedOrigins).toEqual(["http://localhost:3001"]);
  });

  it("refuses what is not an exact origin, with the loader's message", () => {
    expect(() => withExtraOrigins(config, "acme-books", ["http://localhost:8000/"])).toThrow(/--origin .*did you mean "http:\/\/localhost:8000"/);
    expect(() => withExtraOrigins(config, "acme-books", ["*"])).toThrow(/not an exact origin/);
  });
});
