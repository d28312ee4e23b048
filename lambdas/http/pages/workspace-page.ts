/**
 * The stub workspace at /app/... (the real Jupid app is a separate product).
 * It shows who is signed in and how, and carries the workspace bridge
 * (WORKSPACE_SCRIPT, allowed by hash) that talks to the SDK when framed.
 * The real app includes the same bridge to behave identically in an embed.
 */
import type { PartnerConfig } from "../../../config/schema.ts";
import type { WorkspacePageConfig } from "../../../sdk/src/protocol.ts";
import type { JupidUser, Session } from "../../ports/index.ts";
import { cssColour, escapeHtml, jsonBlock } from "./embed-page.ts";
import { WORKSPACE_SCRIPT } from "./scripts.generated.ts";

export interface WorkspacePageInput {
  readonly user: JupidUser;
  readonly session: Session;
  readonly partner: PartnerConfig;
  /** The app path being shown, without the workspace base path. */
  readonly path: string;
  /** Where the workspace is mounted on the app origin. @default "/app" */
  readonly workspaceBasePath?: string;
  /** The server's clock (epoch ms), to tell the page how long its session has left. @default Date.now() */
  readonly now?: number;
}

const NAV: readonly (readonly [string, string])[] = [
  ["/dashboard", "Dashboard"],
  ["/reports", "Reports"],
  ["/transactions", "Transactions"],
  ["/onboarding/connect-accounts", "Connect accounts"],
];

export function renderWorkspacePage(input: WorkspacePageInput): string {
  const { user, session, partner, path } = input;
  const basePath = input.workspaceBasePath ?? "/app";
  const brand = partner.branding;
  const colour = cssColour(brand.primaryColor);
  const expiresIn = Math.max(0, session.expiresAt - Math.floor((input.now ?? Date.now()) / 1000));
  const config: WorkspacePageConfig = { partnerId: partner.id, allowedOrigins: partner.allowedOrigins, basePath, expiresIn };
  const row = (label: string, id: string, value: string) => `<dt>${label}</dt><dd id="${id}">${escapeHtml(value)}</dd>`;
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
</style>
</head><body data-shell="${escapeHtml(session.shell)}">
<header>${brand.logoUrl ? `<img src="${escapeHtml(brand.logoUrl)}" alt="">` : ""}<strong>${escapeHtml(brand.displayName)}</strong><nav>${nav}</nav></header>
<main><h1>${escapeHtml(path)}</h1><p class="note">Stub Jupid workspace: it stands in for the real app and shows who is signed in.</p>
<dl>${row("User", "user", user.userId)}${row("Name", "name", user.name ?? "")}${row("Email", "email", user.email ?? "")}${row("Partner", "partner", partner.id)}${row("Partner user", "sub", user.sub)}${row("Path", "path", path)}${row("Shell", "shell", session.shell)}${row("Chat", "chat", String(session.chat))}${row("Branding", "branding", `${brand.displayName} ${brand.primaryColor}`)}${row("Session ends", "expires", new Date(session.expiresAt * 1000).toISOString())}</dl></main>
${session.chat ? `<aside id="chat-panel">Jupid assistant — ask about your finances.</aside>` : ""}
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
