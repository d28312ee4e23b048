/**
 * Sizing without autoResize: the iframe fills its container, including a
 * container sized only by `min-height` (the documented `height: 100%;
 * min-height: 720px`, where `height: 100%` resolves to auto), in plain,
 * flex and grid layouts; the console warns for any container under 200 px.
 * Real Chromium layout; the frame's content plays no part (no sign-in needed).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PARTNER_ID } from "./support.ts";
import { useBrowserWorld } from "./world.ts";

// 600 px tall, so that 100vh alone is less than the documented 720 px minimum.
const world = useBrowserWorld({ viewport: { width: 1200, height: 600 } });

const DOCUMENTED = "height: 100%; min-height: 720px";
/** body markup per layout; the container is #c. */
const LAYOUTS: Record<string, { body: string; bodyStyle?: string }> = {
  plain: { body: `<div id="c" style="${DOCUMENTED}"></div>` },
  "plain, parent with a height": { body: `<div style="height: 900px"><div id="c" style="${DOCUMENTED}"></div></div>` },
  "flex column, flex: 1": {
    bodyStyle: "display: flex; flex-direction: column; min-height: 100vh",
    body: `<header style="height: 50px"></header><div id="c" style="flex: 1; min-height: 720px"></div>`,
  },
  "flex column, documented container": {
    bodyStyle: "display: flex; flex-direction: column; min-height: 100vh",
    body: `<header style="height: 50px"></header><div id="c" style="${DOCUMENTED}"></div>`,
  },
  "flex row container": { body: `<div id="c" style="display: flex; min-height: 720px"></div>` },
  "grid, 1fr row": {
    bodyStyle: "display: grid; grid-template-rows: 50px 1fr; min-height: 100vh",
    body: `<header></header><div id="c" style="min-height: 720px"></div>`,
  },
  "grid, documented container": {
    bodyStyle: "display: grid; grid-template-columns: 200px 1fr",
    body: `<nav></nav><div id="c" style="${DOCUMENTED}"></div>`,
  },
  "fixed height": { body: `<div id="c" style="height: 500px"></div>` },
  "200 px": { body: `<div id="c" style="height: 200px"></div>` },
  "199 px": { body: `<div id="c" style="height: 199px"></div>` },
  "no height": { body: `<div id="c"></div>` },
};

let pages: Server;
let pagesUrl = "";

beforeAll(async () => {
  pages = createServer((req, res) => {
    const layout = LAYOUTS[new URL(req.url ?? "/", "http://pages.invalid").searchParams.get("layout") ?? ""];
    if (!layout) return void res.writeHead(404).end();
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html style="height: 100%"><head><meta charset="utf-8"><script src="${world.stack.appUrl}/embed.js"></script></head>
<body style="margin: 0; ${layout.bodyStyle ?? ""}">${layout.body}
<script>JupidEmbed.mount({ partnerId: "${PARTNER_ID}", container: "#c", token: "unused" });</script></body></html>`);
  });
  await new Promise<void>((resolve) => pages.listen(0, "localhost", () => resolve()));
  pagesUrl = `http://localhost:${(pages.address() as AddressInfo).port}`;
});

afterAll(async () => {
  pages.closeAllConnections();
  await new Promise((resolve) => pages.close(resolve));
});

async function measure(layout: string) {
  const page = await world.context.newPage();
  const warnings: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "warning") warnings.push(message.text());
  });
  await page.goto(`${pagesUrl}/?layout=${encodeURIComponent(layout)}`);
  const sizes = await page.evaluate(() => {
    const container = document.querySelector("#c") as HTMLElement;
    const iframe = container.querySelector("iframe") as HTMLIFrameElement;
    return { container: container.getBoundingClientRect().height, iframe: iframe.getBoundingClientRect().height };
  });
  return { ...sizes, warnings };
}

describe("iframe sizing without autoResize", () => {
  it.each([
    ["plain", 720],
    ["plain, parent with a height", 900],
    ["flex column, flex: 1", 720],
    ["flex column, documented container", 720],
    ["flex row container", 720],
    ["grid, 1fr row", 720],
    ["grid, documented container", 720],
  ])("%s: the frame is at least %i px and fills the container", async (layout, minimum) => {
    const { container, iframe, warnings } = await measure(layout);
    expect(iframe).toBeGreaterThanOrEqual(minimum);
    expect(iframe).toBe(container);
    expect(warnings).toEqual([]);
  });

  it("a container with a fixed height gets exactly that height, and no warning", async () => {
    const { iframe, warnings } = await measure("fixed height");
    expect(iframe).toBe(500);
    expect(warnings).toEqual([]);
  });

  it("warns for a container under 200 px (boundary pair 200 / 199) and for one without a height", async () => {
    expect((await measure("200 px")).warnings).toEqual([]);
    const small = await measure("199 px");
    expect(small.iframe).toBe(199);
    expect(small.warnings).toEqual([expect.stringMatching(/^\[JupidEmbed\] the container is 199 px tall/)]);
    const none = await measure("no height");
    expect(none.warnings).toEqual([expect.stringMatching(/^\[JupidEmbed\] the container is \d+ px tall/)]);
  });
});
