/**
 * The generated page scripts are fresh, the CSP hashes allow exactly them,
 * and the page renderers inline them verbatim and escape partner data.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseEnvironmentConfig, type PartnerConfig } from "../../config/schema.ts";
import { embedPageCsp, enterPageCsp, workspacePageCsp } from "../../lambdas/http/csp.ts";
import { renderEmbedPage } from "../../lambdas/http/pages/embed-page.ts";
import { renderEnterPage } from "../../lambdas/http/pages/enter-page.ts";
import * as generated from "../../lambdas/http/pages/scripts.generated.ts";
import { sessionView } from "../../lambdas/core/sessions.ts";
import { renderSignedOutPage, renderWorkspacePage } from "../../lambdas/http/pages/workspace-page.ts";
import type { JupidUser, Session } from "../../lambdas/ports/index.ts";
import { buildPageScripts, cspHash, GENERATED_FILE, renderGeneratedFile } from "../../scripts/build.ts";

const hostile = "</script><script>alert(1)</script>\u2028&\"'";

function partner(overrides: Record<string, unknown> = {}): PartnerConfig {
  const config = parseEnvironmentConfig(
    {
      environment: "local",
      appUrl: "http://127.0.0.1:4000",
      workspaceBasePath: "/app",
      partners: [
        {
          id: "acme-books",
          displayName: "Acme",
          allowedOrigins: ["http://localhost:3000"],
          branding: { displayName: hostile, primaryColor: "#0f766e", logoUrl: "https://cdn.example/logo.png?a=1&b=\"2\"" },
          shell: { mode: "embedded", chat: true },
          freeLimit: { metric: "transactions", threshold: 3 },
          ...overrides,
        },
      ],
    },
    "test",
  );
  return config.partners[0] as PartnerConfig;
}

/** Inline scripts of an HTML page, as the browser would hash them. */
const inlineScripts = (html: string) =>
  [...html.matchAll(/<script(?: [^>]*)?>([\s\S]*?)<\/script>/g)]
    .filter((m) => !m[0].startsWith('<script type="application/json"'))
    .map((m) => m[1] as string);

describe("scripts.generated.ts", () => {
  it("is what `npm run build` produces from sdk/src/frame (run it after changing the frame scripts)", async () => {
    expect(readFileSync(GENERATED_FILE, "utf8")).toBe(renderGeneratedFile(await buildPageScripts()));
  });

  it("carries the sha256 of each script", () => {
    expect(generated.FRAME_SCRIPT_HASH).toBe(cspHash(generated.FRAME_SCRIPT));
    expect(generated.WORKSPACE_SCRIPT_HASH).toBe(cspHash(generated.WORKSPACE_SCRIPT));
    expect(generated.ENTER_SCRIPT_HASH).toBe(cspHash(generated.ENTER_SCRIPT));
    for (const code of [generated.FRAME_SCRIPT, generated.WORKSPACE_SCRIPT, generated.ENTER_SCRIPT]) {
      expect(code.length).toBeGreaterThan(100);
      expect(code).not.toMatch(/<\/script|<!--/i);
    }
  });
});

describe("page renderers", () => {
  const user: JupidUser = { userId: "usr_1", partnerId: "acme-books", sub: hostile, email: "a@b.example", name: hostile, createdAt: 1, lastLoginAt: 1 };
  const session: Session = { idHash: "h", userId: "usr_1", partnerId: "acme-books", shell: "embedded", chat: true, createdAt: 1, expiresAt: 2, lastSeenAt: 1, epoch: 0 };
  const settings = { sessionIdleTimeoutSeconds: 1800 };
  const view = (p: PartnerConfig) => sessionView(session, user, p, settings);

  it("each page has exactly one executable inline script, allowed by its CSP and no 'unsafe-inline' script", () => {
    const p = partner();
    const pages = [
      { html: renderEmbedPage({ partner: p, now: 1_000 }), csp: embedPageCsp(p.allowedOrigins) },
      { html: renderWorkspacePage({ partner: p, path: "/x", basePath: "/app", view: view(p), now: 1_000 }), csp: workspacePageCsp(p.allowedOrigins) },
      { html: renderEnterPage(p), csp: enterPageCsp() },
    ];
    for (const { html, csp } of pages) {
      const scripts = inlineScripts(html);
      expect(scripts).toHaveLength(1);
      expect(csp).toContain(`script-src '${cspHash(scripts[0] as string)}'`);
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    }
    expect(inlineScripts(renderSignedOutPage())).toHaveLength(0);
  });

  it("escapes partner and user data in HTML and in the JSON config block", () => {
    const p = partner();
    for (const html of [
      renderEmbedPage({ partner: p, now: 1_000 }),
      renderWorkspacePage({ partner: p, path: "/<b>", basePath: "/app", view: view(p), now: 1_000 }),
      renderEnterPage(p),
    ]) {
      expect(html).not.toContain("<script>alert(1)");
      expect(html).not.toContain("</script><script>");
      const config = /<script type="application\/json" id="jupid-config">([\s\S]*?)<\/script>/.exec(html)?.[1];
      if (config !== undefined) expect(() => JSON.parse(config)).not.toThrow();
    }
    const embed = renderEmbedPage({ partner: p, now: 1_000 });
    const config = JSON.parse(/id="jupid-config">([\s\S]*?)<\/script>/.exec(embed)?.[1] ?? "");
    expect(config).toEqual({ partnerId: "acme-books", allowedOrigins: ["http://localhost:3000"], title: hostile, serverTime: 1 });
    expect(renderWorkspacePage({ partner: p, path: "/<b>", basePath: "/app", view: view(p), now: 1_000 })).toContain("<h1>/&#60;b&#62;</h1>");
  });

  it("the workspace config tells the bridge the partner's origins, the base path and the server's clock", () => {
    const shell = renderWorkspacePage({ partner: partner(), path: "/x", basePath: "/embed/acme-books/app", now: 1_500 });
    const config = JSON.parse(/id="jupid-config">([\s\S]*?)<\/script>/.exec(shell)?.[1] ?? "");
    expect(config).toEqual({ partnerId: "acme-books", allowedOrigins: ["http://localhost:3000"], basePath: "/embed/acme-books/app", serverTime: 1, framed: true });
    expect(shell).toContain('href="/embed/acme-books/app/dashboard"');
    const top = renderWorkspacePage({ partner: partner(), path: "/x", basePath: "/ws", view: view(partner()), now: 1_500 });
    expect(JSON.parse(/id="jupid-config">([\s\S]*?)<\/script>/.exec(top)?.[1] ?? "").framed).toBe(false);
  });

  it("the framed shell carries no user data; the top-level page is rendered from the session", () => {
    const shell = renderWorkspacePage({ partner: partner(), path: "/x", basePath: "/embed/acme-books/app", now: 1_500 });
    expect(shell).not.toContain("usr_1");
    expect(shell).not.toContain("a@b.example");
    const top = renderWorkspacePage({ partner: partner(), path: "/x", basePath: "/ws", view: view(partner()), now: 1_500 });
    expect(top).toContain('<dd id="user">usr_1</dd>');
    expect(top).toContain('<dd id="email">a@b.example</dd>');
  });

  it("the entry page posts to its own partner route", () => {
    expect(renderEnterPage(partner())).toContain('<form method="post" action="/partner/acme-books/enter" id="enter">');
  });
});
