/**
 * The stub workspace (the real Jupid app is a separate product). Two forms of one page:
 * - framed, at /embed/{partnerId}/app/...: an app shell with no user data; its script
 *   (WORKSPACE_SCRIPT, allowed by hash; built on sdk/src/workspace/) fetches the view
 *   with the frame session and talks to the partner page;
 * - top-level, at {workspaceBasePath}/... after the redirect entry: rendered by the
 *   server from the first-party cookie session.
 * The real app includes the same workspace library to behave identically in an embed.
 */
import type { PartnerConfig } from "../../../config/schema.ts";
import type { WorkspacePageConfig } from "../../../sdk/src/protocol.ts";
import type { SessionView } from "../../core/sessions.ts";
import { cssColour, escapeHtml, jsonBlock } from "./embed-page.ts";
import { WORKSPACE_SCRIPT } from "./scripts.generated.ts";

export interface WorkspacePageInput {
  readonly partner: PartnerConfig;
  /** The app path being shown, without the workspace base path. */
  readonly path: string;
  /** Where the workspace is mounted on the app origin: `/embed/{id}/app` in a frame, else the env's base path. */
  readonly basePath: string;
  /**
   * Top-level workspace (redirect entry, first-party cookie): the session, rendered by the server.
   * Absent for the framed shell: its script fetches the view with the frame session (DPoP) and fills it in.
   */
  readonly view?: SessionView;
  /** The server's clock (epoch ms): the frame corrects its own clock by it for DPoP proofs. */
  readonly now: number;
}

const NAV: readonly (readonly [string, string])[] = [
  ["/dashboard", "Dashboard"],
  ["/reports", "Reports"],
  ["/transactions", "Transactions"],
  ["/onboarding/connect-accounts", "Connect accounts"],
];

/** The rows the page shows, by element id; the framed shell fills the same ids (sdk/src/frame/workspace.ts). */
export function viewRows(view: SessionView | undefined, path: string): readonly (readonly [label: string, id: string, value: string])[] {
  const brand = view?.partner.branding;
  return [
    ["User", "user", view?.user.userId ?? ""],
    ["Name", "name", view?.user.name ?? ""],
    ["Email", "email", view?.user.email ?? ""],
    ["Partner", "partner", view?.partner.id ?? ""],
    ["Partner user", "sub", view?.user.sub ?? ""],
    ["Path", "path", path],
    ["Shell", "shell", view?.shell ?? ""],
    ["Chat", "chat", view ? String(view.chat) : ""],
    ["Branding", "branding", brand ? `${brand.displayName} ${brand.primaryColor}` : ""],
    ["Session ends", "expires", view?.expiresAt ?? ""],
  ];
}

export function renderWorkspacePage(input: WorkspacePageInput): string {
  const { partner, path, view, basePath } = input;
  const brand = partner.branding;
  const colour = cssColour(brand.primaryColor);
  const config: WorkspacePageConfig = {
    partnerId: partner.id,
    allowedOrigins: partner.allowedOrigins,
    basePath,
    serverTime: Math.floor(input.now / 1000),
    framed: view === undefined,
  };
  const rows = viewRows(view, path)
    .map(([label, id, value]) => `<dt>${label}</dt><dd id="${id}">${escapeHtml(value)}</dd>`)
    .join("");
  const nav = NAV.map(
    ([href, label]) =>
      `<a href="${escapeHtml(basePath + href)}"${path === href || path.startsWith(`${href}/`) ? ' aria-current="page"' : ""}>${label}</a>`,
  ).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Jupid — ${escapeHtml(brand.displayName)}</title>
<style>
html,body{margin:0}body{font:15px/1.5 system-ui,sans-serif;color:#0f172a;background:#f8fafc}
header{display:flex;gap:16px;align-items:center;flex-wrap:wrap;padding:12px 20px;color:#fff;background:${colour}}
header img{height:28px}header strong{font-size:17px;margin-right:auto}
nav{display:flex;gap:4px;flex-wrap:wrap}nav a{color:#fff;text-decoration:none;padding:4px 10px;border-radius:6px}nav a[aria-current]{background:rgba(255,255,255,.2)}
main{padding:20px;max-width:760px}h1{margin:0 0 4px;font-size:22px}.note{margin:0 0 16px;color:#64748b}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:0;padding:16px;background:#fff;border:1px solid #e2e8f0;border-radius:8px}dt{color:#64748b}dd{margin:0;font-family:ui-monospace,monospace;overflow-wrap:anywhere}
aside{margin:16px 20px 20px;padding:12px 16px;border-radius:8px;background:#fff;border:1px dashed ${colour};max-width:726px}
[hidden]{display:none!important}#state{padding:20px}
</style>
</head><body${view ? ` data-shell="${escapeHtml(view.shell)}"` : ""}>
<header>${brand.logoUrl ? `<img src="${escapeHtml(brand.logoUrl)}" alt="">` : ""}<strong>${escapeHtml(brand.displayName)}</strong><nav>${nav}</nav></header>
<p id="state" role="status"${view ? " hidden" : ""}>${view ? "" : "Loading your workspace…"}</p>
<main id="workspace"${view ? "" : " hidden"}><h1>${escapeHtml(path)}</h1><p class="note">Stub Jupid workspace: it stands in for the real app and shows who is signed in.</p>
<dl>${rows}</dl></main>
<aside id="chat-panel"${view?.chat ? "" : " hidden"}>Jupid assistant — ask about your finances.</aside>
${jsonBlock(config)}
<script>${WORKSPACE_SCRIPT}</script></body></html>`;
}

/** Shown at /app/* without a live session. */
export function renderSignedOutPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Jupid — signed out</title>
<style>body{margin:0;min-height:100vh;display:grid;place-items:center;font:15px/1.5 system-ui,sans-serif;color:#334155}</style>
</head><body><main><h1>Session required</h1><p>Open Jupid from your partner app to sign in.</p></main></body></html>`;
}
