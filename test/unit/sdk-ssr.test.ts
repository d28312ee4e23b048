/** The ESM entry is side-effect free: importing it under Node (SSR) touches neither window nor document. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DIST_DIR, packageVersion } from "../../scripts/build.ts";
import { PROTOCOL_VERSION } from "../../sdk/src/protocol.ts";

describe("sdk ESM entry", () => {
  it("imports from source without a DOM", async () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe("undefined");
    expect(typeof (globalThis as { document?: unknown }).document).toBe("undefined");
    const sdk = await import("../../sdk/src/index.ts");
    expect(typeof sdk.mount).toBe("function");
    expect(sdk.DEFAULT_APP_URL).toBe("https://app.jupid.com");
    expect(sdk.PROTOCOL_VERSION).toBe(PROTOCOL_VERSION);
  });

  it("the built sdk/dist/index.js imports without a DOM and has types", async () => {
    if (!existsSync(join(DIST_DIR, "index.js"))) throw new Error("sdk/dist is not built: run `npm run build` first");
    const sdk = await import(join(DIST_DIR, "index.js"));
    expect(typeof sdk.mount).toBe("function");
    expect(sdk.version).toBe(packageVersion());
    const types = readFileSync(join(DIST_DIR, "index.d.ts"), "utf8");
    expect(types).toContain("export declare function mount(options: MountOptions): EmbedHandle;");
    expect(types).not.toMatch(/from "\.\/[^"]+\.ts"/);
    // `window.JupidEmbed` is typed for script-tag users.
    expect(types).toMatch(/declare global \{\s*interface Window \{[\s\S]*JupidEmbed\?: JupidEmbedGlobal;/);
  });

  it("the built react and server entries import without a DOM, react.js reuses index.js", async () => {
    const react = await import(join(DIST_DIR, "react.js"));
    expect(typeof react.JupidEmbed).toBe("function");
    expect(typeof react.useJupidEmbed).toBe("function");
    const code = readFileSync(join(DIST_DIR, "react.js"), "utf8");
    expect(code.startsWith('"use client";')).toBe(true);
    expect(code).toContain('from "./index.js"');
    expect(code).not.toContain("postMessage"); // mount() is not bundled a second time
    const server = await import(join(DIST_DIR, "server.js"));
    expect(typeof server.signEmbedToken).toBe("function");
    expect(typeof server.verifyWebhook).toBe("function");
  });

  it("fails with a clear error, not at import, when mount() runs without a DOM", async () => {
    const { mount } = await import("../../sdk/src/index.ts");
    expect(() => mount({ partnerId: "acme-books", container: "#x", token: "t" })).toThrow();
  });
});
