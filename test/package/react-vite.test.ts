/**
 * A partner's Vite 8 + React 19 app under <StrictMode>, using the installed
 * `@jupid/embed/react` (the component and the hook), built with Vite
 * (development and production), served on localhost and driven in Chromium
 * until both embeds report `authenticated` from the local gateway.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../lambdas/local/gateway.ts";
import { launchChromium } from "../browser/support.ts";
import { freePort, PARTNER_ID, partnerProject, run, startPartnerGateway, startSiteServer, toolEnv } from "./support.ts";

const APP = {
  "index.html": `<!doctype html><html><head><meta charset="utf-8"><title>Acme Books</title></head>
<body style="margin:0"><div id="root" style="height:100vh"></div><script type="module" src="/src/main.jsx"></script></body></html>`,
  // What a partner writes, from the README.
  "src/main.jsx": `import React, { StrictMode, useEffect, useRef } from "react";
import { createRoot } from "react-dom/client";
import { mount } from "@jupid/embed";
import { JupidEmbed, useJupidEmbed } from "@jupid/embed/react";

const partnerId = import.meta.env.VITE_JUPID_PARTNER_ID;
const appUrl = import.meta.env.VITE_JUPID_APP_URL;
const getToken = () => fetch("/api/jupid/embed-token").then((r) => r.json()).then((b) => b.token);
window.jupidEvents = { component: [], hook: [], esm: [] };

// The README's ESM example: StrictMode runs this effect as mount, cleanup, mount.
function EsmEmbed() {
  const ref = useRef(null);
  useEffect(() => {
    const embed = mount({ partnerId, container: ref.current, getToken, appUrl, onEvent: (e) => window.jupidEvents.esm.push(e) });
    return () => embed.destroy();
  }, []);
  return <div ref={ref} id="esm" style={{ height: 400 }} />;
}

function HookEmbed() {
  const { ref, status, handle } = useJupidEmbed({ partnerId, appUrl, getToken, onEvent: (e) => window.jupidEvents.hook.push(e) });
  return (
    <section>
      <p id="hook-status">{status}</p>
      <p id="hook-handle">{handle ? "handle" : "no handle"}</p>
      <div ref={ref} id="hooked" style={{ height: 400 }} />
    </section>
  );
}

function App() {
  return (
    <main style={{ height: "100%" }}>
      <JupidEmbed id="jupid" partnerId={partnerId} appUrl={appUrl} getToken={getToken}
        style={{ height: "100%", minHeight: 720 }} onEvent={(e) => window.jupidEvents.component.push(e)} />
      <HookEmbed />
      <EsmEmbed />
    </main>
  );
}

createRoot(document.getElementById("root")).render(<StrictMode><App /></StrictMode>);
`,
};

let gateway: RunningGateway;
let browser: Browser;
let site: { url: string; close(): Promise<void> };
const builds: Record<string, string> = {};

beforeAll(async () => {
  const app = join(partnerProject(), "vite-app");
  for (const [file, text] of Object.entries(APP)) {
    mkdirSync(join(app, file, ".."), { recursive: true });
    writeFileSync(join(app, file), text);
  }
  const port = await freePort();
  let secret = "";
  [{ gateway, secret }, browser] = await Promise.all([startPartnerGateway([`http://localhost:${port}`]), launchChromium()]);
  const env = { VITE_JUPID_PARTNER_ID: PARTNER_ID, VITE_JUPID_APP_URL: gateway.url };
  const vite = join(partnerProject(), "node_modules", "vite", "bin", "vite.js");
  for (const mode of ["development", "production"]) {
    const started = performance.now();
    await run("node", [vite, "build", "--mode", mode, "--base", `/${mode}/`, "--outDir", `dist-${mode}`, "--logLevel", "warn"], app, {
      // vitest runs with NODE_ENV=test, which Vite would put into the bundle (React's development build).
      ...toolEnv({ ...env, NODE_ENV: mode }),
    });
    builds[mode] = join(app, `dist-${mode}`);
    console.log(`[figures] vite build --mode ${mode}: ${((performance.now() - started) / 1000).toFixed(1)}s`);
  }
  // The token endpoint signs with the installed package, as the partner's server would.
  const server = await import(pathToFileURL(join(partnerProject(), "node_modules", "@jupid", "embed", "dist", "server.js")).href);
  site = await startSiteServer(port, builds, () =>
    server.signEmbedToken({ partnerId: PARTNER_ID, secret, user: { id: "vite-user", name: "Vite User" } }),
  );
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await gateway?.close();
});

/**
 * Throw-away embeds per mode. The README's effect is run twice by StrictMode in development, so
 * its first embed is destroyed before it answered; the component and the hook mount only once the
 * container's ref is attached (an update, which StrictMode does not replay), so they never make one.
 */
describe.each([
  { mode: "development", destroyed: { component: 0, hook: 0, esm: 1 } },
  { mode: "production", destroyed: { component: 0, hook: 0, esm: 0 } },
])("Vite + React 19 app, $mode build", ({ mode, destroyed }) => {
  it("the component, the hook and the README's mount() effect each sign in once under StrictMode", async () => {
    const js = readdirSync(join(builds[mode] as string, "assets")).filter((f) => f.endsWith(".js"));
    const bundle = js.map((f) => readFileSync(join(builds[mode] as string, "assets", f), "utf8")).join("\n");
    // The app bundles the ESM SDK, not the IIFE, and the React build of its mode.
    expect(bundle).not.toContain(".JupidEmbed=");

    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const warnings: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "warning" && message.text().includes("JupidEmbed")) warnings.push(message.text());
      });
      await page.goto(`${site.url}/${mode}/`);
      await page.waitForFunction(
        () => {
          const events = (window as unknown as { jupidEvents: Record<string, { type: string }[]> }).jupidEvents;
          return events && ["component", "hook", "esm"].every((key) => events[key]?.some((e) => e.type === "authenticated"));
        },
        undefined,
        { timeout: 30_000, polling: 100 },
      );
      const events = await page.evaluate(() => (window as unknown as { jupidEvents: Record<string, { type: string }[]> }).jupidEvents);
      for (const key of ["component", "hook", "esm"] as const) {
        const types = (events[key] ?? []).map((e) => e.type);
        expect(types.filter((t) => t === "destroyed"), `${key}: ${types}`).toHaveLength(destroyed[key]);
        expect(types.filter((t) => t === "authenticated"), `${key}: ${types}`).toHaveLength(1);
        expect(types.filter((t) => t === "error"), `${key}: ${types}`).toHaveLength(0);
      }
      expect(await page.locator("#jupid iframe").count()).toBe(1);
      expect(await page.locator("#hooked iframe").count()).toBe(1);
      expect(await page.locator("#esm iframe").count()).toBe(1);
      await expect.poll(() => page.locator("#hook-status").textContent()).toBe("authenticated");
      expect(await page.locator("#hook-handle").textContent()).toBe("handle");
      // The documented container gives a frame of at least 720 px.
      const height = await page.locator("#jupid iframe").evaluate((el) => el.getBoundingClientRect().height);
      expect(height).toBeGreaterThanOrEqual(720);
      expect(warnings).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
