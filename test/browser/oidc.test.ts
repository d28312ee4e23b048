/**
 * The OIDC entrypoint in Chromium, top-level all the way: a partner page on
 * its own site links to Jupid's login initiation, Jupid sends the browser to
 * the partner's real OpenID provider (oidc-provider on loopback), the user
 * signs in there, the provider sends the browser back to Jupid's callback,
 * and the workspace opens signed in. Three sites: partner (localhost),
 * provider and Jupid (127.0.0.1, different ports).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partnerSchema } from "../../config/schema.ts";
import { type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { partnerInput, testEnvironment } from "../fixtures/partners.ts";
import { TEST_SECRET } from "../fixtures/tokens.ts";
import { startTestProvider, type TestProvider } from "../support/oidc-provider.ts";
import { launchChromium } from "./support.ts";

const PARTNER_ID = "acme-oidc";
const FIRST_RUN = "/onboarding/connect-accounts";
let gateway: RunningGateway;
let provider: TestProvider;
let browser: Browser;
let partnerSite: Server;
let partnerUrl: string;

beforeAll(async () => {
  [gateway, browser] = await Promise.all([
    startGateway({ config: testEnvironment([partnerInput(PARTNER_ID)]), secrets: { [PARTNER_ID]: TEST_SECRET }, port: 0 }),
    launchChromium(),
  ]);
  provider = await startTestProvider({ appUrl: gateway.url, partnerId: PARTNER_ID, accounts: { ada: { email: "ada@acme.example", name: "Ada Lovelace" } } });
  gateway.memory?.partners.set(
    partnerSchema.parse({
      ...partnerInput(PARTNER_ID, { branding: { displayName: "Acme Books × Jupid", primaryColor: "#0f766e" } }),
      oidc: { issuer: provider.issuer, clientId: provider.clientId },
    }),
  );
  gateway.memory?.secrets.setOidcClientSecret(PARTNER_ID, provider.clientSecret);

  // The partner's page: a plain link, as the partner guide shows it.
  const login = `${gateway.url}/partner/${PARTNER_ID}/oidc/login?${new URLSearchParams({ iss: provider.issuer, target_link_uri: "/dashboard" })}`;
  partnerSite = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": "default-src 'none'" });
    res.end(`<!doctype html><title>Acme Books</title><h1>Acme Books</h1><a id="jupid" href="${login.replaceAll("&", "&amp;")}">Sign in to Jupid with Acme</a>`);
  });
  await new Promise<void>((resolve) => partnerSite.listen(0, "localhost", resolve));
  partnerUrl = `http://localhost:${(partnerSite.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([gateway?.close(), provider?.close(), new Promise((resolve) => partnerSite?.close(resolve))]);
});

describe("OIDC sign-in, top-level in Chromium", () => {
  it("partner page -> Jupid initiation -> provider login -> callback -> workspace; a second visit skips to the target", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(partnerUrl);
      await page.click("#jupid");

      // At the provider: its own login page, on its own origin.
      await page.waitForURL((url) => url.origin === provider.issuer);
      await page.fill("#login", "ada");
      await Promise.all([page.waitForURL((url) => url.origin === gateway.url && url.pathname.startsWith("/app/")), page.click("#sign-in")]);

      // A new user lands on the partner's first-run path, signed in, with the partner's branding.
      expect(new URL(page.url()).pathname).toBe(`/app${FIRST_RUN}`);
      const body = await page.textContent("body");
      expect(body).toContain("Ada Lovelace");
      expect(body).toContain("Acme Books × Jupid");

      const cookies = await context.cookies(gateway.url);
      expect(cookies.map((cookie) => cookie.name)).toContain("jupid_session");
      expect(cookies.map((cookie) => cookie.name)).not.toContain(`jupid_oidc_${PARTNER_ID}`);
      // The session id never shows in a URL the browser visited.
      const session = cookies.find((cookie) => cookie.name === "jupid_session")?.value as string;
      expect(page.url()).not.toContain(session);

      // Back on the partner page: the provider still has its session, so no login form; an existing user goes to the target.
      await page.goto(partnerUrl);
      await Promise.all([page.waitForURL((url) => url.origin === gateway.url && url.pathname.startsWith("/app/")), page.click("#jupid")]);
      expect(new URL(page.url()).pathname).toBe("/app/dashboard");
      expect(provider.logins).toBe(1);
    } finally {
      await context.close();
    }
  });

  it("a callback opened in another browser (login CSRF) shows the OIDC_STATE_MISMATCH page and signs nobody in", async () => {
    const attacker = await browser.newContext();
    const victim = await browser.newContext();
    try {
      const page = await attacker.newPage();
      // The attacker signs in at the provider as themself and records where it sends the browser back to.
      let callback: string | undefined;
      page.on("request", (request) => {
        if (request.url().startsWith(`${gateway.url}/partner/${PARTNER_ID}/oidc/callback?`)) callback ??= request.url();
      });
      await page.goto(partnerUrl);
      await page.click("#jupid");
      await page.waitForURL((url) => url.origin === provider.issuer);
      await page.fill("#login", "mallory");
      await page.click("#sign-in");
      await expect.poll(() => callback).toBeDefined();

      // The victim has started a sign-in of their own (its transaction cookie is set), then is lured to the attacker's callback.
      const victimPage = await victim.newPage();
      await victimPage.goto(partnerUrl);
      await victimPage.click("#jupid");
      await victimPage.waitForURL((url) => url.origin === provider.issuer);
      expect((await victim.cookies(gateway.url)).map((cookie) => cookie.name)).toContain(`jupid_oidc_${PARTNER_ID}`);
      const response = await victimPage.goto(callback as string);
      expect(response?.status()).toBe(400);
      expect(await victimPage.textContent("#code")).toBe("OIDC_STATE_MISMATCH");
      expect((await victim.cookies(gateway.url)).map((cookie) => cookie.name)).not.toContain("jupid_session");
    } finally {
      await Promise.all([attacker.close(), victim.close()]);
    }
  });
});
