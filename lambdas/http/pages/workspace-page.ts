// PLACEHOLDER (owned by the SDK engineer): the stub workspace page.
import type { PartnerConfig } from "../../../config/schema.ts";
import type { JupidUser, Session } from "../../ports/index.ts";
import { escapeHtml } from "./embed-page.ts";
import { WORKSPACE_SCRIPT } from "./scripts.generated.ts";

export interface WorkspacePageInput {
  readonly user: JupidUser;
  readonly session: Session;
  readonly partner: PartnerConfig;
  /** The app path being shown, without the workspace base path. */
  readonly path: string;
}

export function renderWorkspacePage(input: WorkspacePageInput): string {
  const { user, session, partner, path } = input;
  return `<!doctype html><html><head><meta charset="utf-8"><title>Jupid — ${escapeHtml(partner.branding.displayName)}</title></head><body>
<h1>${escapeHtml(partner.branding.displayName)}</h1>
<dl><dt>User</dt><dd id="user">${escapeHtml(user.userId)}</dd><dt>Name</dt><dd id="name">${escapeHtml(user.name ?? "")}</dd><dt>Partner</dt><dd id="partner">${escapeHtml(partner.id)}</dd><dt>Path</dt><dd id="path">${escapeHtml(path)}</dd><dt>Shell</dt><dd id="shell">${session.shell}</dd><dt>Chat</dt><dd id="chat">${session.chat}</dd></dl>
<script>${WORKSPACE_SCRIPT}</script></body></html>`;
}

/** Shown at /app/* without a live session. */
export function renderSignedOutPage(): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Jupid — signed out</title></head><body><h1>Session required</h1><p>Open Jupid from your partner app to sign in.</p></body></html>`;
}
