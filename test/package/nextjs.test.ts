/**
 * A partner's Next.js app-router app with the installed package: a client
 * component renders `<JupidEmbed>` from `@jupid/embed/react`, and the token
 * route is sdk/examples/nextjs's route handler verbatim (type-checked by
 * `next build` against the package's .d.ts). `next build` prerenders the page
 * (SSR must not touch `window`), `next start` serves HTML that holds the
 * empty container, and Chromium signs in through it.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../lambdas/local/gateway.ts";
import { launchChromium } from "../browser/support.ts";
import { freePort, PARTNER_ID, partnerProject, ROOT, run, startPartnerGateway, startProcess, toolEnv } from "./support.ts";

const EXAMPLE_ROUTE = join(ROOT, "sdk", "examples", "nextjs", "app", "api", "jupid", "embed-token", "route.ts");

const APP: Record<string, string> = {
  "next.config.mjs": "export default {};\n",
  "app/layout.tsx": `export default function RootLayout({ children }: { children: React.ReactNode }) {
  return <html lang="en"><body style={{ margin: 0 }}>{children}</body></html>;
}
`,
  "app/page.tsx": `import { Embed } from "./embed";

export default function FinancePage() {
  return <main style={{ height: "100vh" }}><Embed /></main>;
}
`,
  "app/embed.tsx": `"use client";
import { JupidEmbed } from "@jupid/embed/react";
import type { EmbedEvent } from "@jupid/embed";

declare global {
  interface Window { jupidEvents?: EmbedEvent[] }
}

export function Embed() {
  return (
    <JupidEmbed
      id="jupid"
      partnerId={process.env.NEXT_PUBLIC_JUPID_PARTNER_ID!}
      appUrl={process.env.NEXT_PUBLIC_JUPID_APP_URL}
      getToken={() => fetch("/api/jupid/embed-token").then((r) => r.json()).then((b) => b.token)}
      style={{ height: "100%", minHeight: 720 }}
      onEvent={(event) => (window.jupidEvents ??= []).push(event)}
    />
  );
}
`,
  // The partner's authentication, here: everyone is the same test user.
  "lib/session.ts": `export async function getSignedInUser(_request: Request) {
  return { id: "next-user", email: "grace@example.com", name: "Grace Hopper" };
}
`,
};

let gateway: RunningGateway;
let browser: Browser;
let server: Awaited<ReturnType<typeof startProcess>> | undefined;
let url = "";

beforeAll(async () => {
  const app = partnerProject();
  for (const [file, text] of Object.entries({ ...APP, "app/api/jupid/embed-token/route.ts": readFileSync(EXAMPLE_ROUTE, "utf8") })) {
    mkdirSync(join(app, file, ".."), { recursive: true });
    writeFileSync(join(app, file), text);
  }
  const port = await freePort();
  url = `http://localhost:${port}`;
  let secret = "";
  [{ gateway, secret }, browser] = await Promise.all([startPartnerGateway([url]), launchChromium()]);
  const next = join(app, "node_modules", "next", "dist", "bin", "next");
  const env = toolEnv({
    NODE_ENV: "production",
    NEXT_PUBLIC_JUPID_PARTNER_ID: PARTNER_ID,
    NEXT_PUBLIC_JUPID_APP_URL: gateway.url,
    JUPID_PARTNER_ID: PARTNER_ID,
    JUPID_EMBED_SECRET: secret,
  });
  const started = performance.now();
  const build = await run("node", [next, "build"], app, env);
  console.log(`[figures] next build: ${((performance.now() - started) / 1000).toFixed(1)}s\n${build.stdout.trim().split("\n").slice(-8).join("\n")}`);
  server = await startProcess("node", [next, "start", "-p", String(port), "-H", "localhost"], app, /Ready in|started server/i, env);
});

afterAll(async () => {
  await server?.stop();
  await browser?.close();
  await gateway?.close();
});

describe("Next.js app router + @jupid/embed/react", () => {
  it("next build prerenders the page and the served HTML holds the empty container, no iframe", async () => {
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(200);
    const html = await response.text();
    const container = /<div(?=[^>]*\bid="jupid")[^>]*>(.*?)<\/div>/.exec(html);
    expect(container?.[0]).toContain('style="height:100%;min-height:720px"');
    expect(container?.[0]).toContain('data-jupid-embed=""');
    expect(container?.[1]).toBe("");
    expect(html).not.toContain("<iframe");
  });

  it("the route handler example mints a token on the server; never for the browser's bundle", async () => {
    const response = await fetch(`${url}/api/jupid/embed-token`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toContain("no-store");
    expect((await response.json()).token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it("hydrates and signs in through the gateway in Chromium", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${url}/`);
      const recorded = () => (window as unknown as { jupidEvents?: { type: string }[] }).jupidEvents ?? [];
      await page.waitForFunction(`(${recorded})().some((e) => e.type === "authenticated")`, undefined, { timeout: 30_000, polling: 100 });
      const types = (await page.evaluate(recorded)).map((e) => e.type);
      expect(types.filter((t) => t === "error")).toEqual([]);
      expect(await page.locator("#jupid iframe").count()).toBe(1);
    } finally {
      await context.close();
    }
  });
});
