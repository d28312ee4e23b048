/**
 * `@jupid/embed/react` under SSR: importing and rendering it in Node (no
 * window, no document) yields the container and nothing else; the iframe is
 * the browser's business (test/package drives it in Chromium under StrictMode).
 */
import { createElement, StrictMode } from "react";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";

describe("@jupid/embed/react on the server", () => {
  it("imports and renders the container without touching window or document", async () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe("undefined");
    expect(typeof (globalThis as { document?: unknown }).document).toBe("undefined");
    const { JupidEmbed } = await import("@jupid/embed/react");
    const html = renderToString(
      createElement(
        StrictMode,
        null,
        createElement(JupidEmbed, {
          id: "jupid",
          className: "workspace",
          style: { height: "100%", minHeight: 720 },
          partnerId: "acme-books",
          getToken: () => "never called on the server",
        }),
      ),
    );
    expect(html).toBe('<div class="workspace" style="height:100%;min-height:720px" id="jupid" data-jupid-embed=""></div>');
  });

  it("the hook renders its initial state on the server: loading, no handle", async () => {
    const { useJupidEmbed } = await import("@jupid/embed/react");
    let seen: unknown;
    function Probe() {
      const { handle, status, error } = useJupidEmbed({ partnerId: "acme-books", token: "t" });
      seen = { handle, status, error };
      return null;
    }
    renderToString(createElement(Probe));
    expect(seen).toEqual({ handle: undefined, status: "loading", error: undefined });
  });
});
