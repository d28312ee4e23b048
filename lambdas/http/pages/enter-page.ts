/**
 * The redirect entry's two pages.
 *
 * GET /partner/{partnerId}/enter without a token: a page whose script (ENTER_SCRIPT,
 * allowed by hash) moves `#token=…&path=…` from the fragment into a POST form,
 * with the origin of `document.referrer` when it is one of the partner's origins
 * (the server checks it again; see lambdas/core/redirect-entry.ts).
 *
 * The confirmation page (no script): "Continue to Jupid as <name> <email> from
 * <partner>?", in the partner's branding. Its form carries the token in the
 * POST body, never in a URL, and nothing has been consumed before the click.
 *
 * Both pages override the gateway's `Referrer-Policy: no-referrer` with
 * `same-origin`: under no-referrer a browser sends `Origin: null` with the
 * form POST, which proves nothing about where it came from. Same-origin still
 * sends nothing to other origins, and the token is never in the URL.
 */
import type { PartnerConfig } from "../../../config/schema.ts";
import type { EntryDecision } from "../../core/redirect-entry.ts";
import { cssColour, escapeHtml, jsonBlock } from "./embed-page.ts";
import { ENTER_SCRIPT } from "./scripts.generated.ts";

/** The JSON the entry page's script reads. */
export interface EnterPageConfig {
  /** document.referrer's origin is reported only when it is one of these. */
  readonly allowedOrigins: readonly string[];
}

const action = (partner: PartnerConfig) => `/partner/${encodeURIComponent(partner.id)}/enter`;

export function renderEnterPage(partner: PartnerConfig): string {
  const config: EnterPageConfig = { allowedOrigins: partner.allowedOrigins };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(partner.branding.displayName)}</title>
<style>body{margin:0;min-height:100vh;display:grid;place-items:center;font:15px/1.5 system-ui,sans-serif;color:#334155}p{border-top:4px solid ${cssColour(partner.branding.primaryColor)};padding:16px}</style>
</head><body>
<form method="post" action="${escapeHtml(action(partner))}" id="enter"><input type="hidden" name="token"><input type="hidden" name="path"><input type="hidden" name="from"></form>
<p id="message" role="status">Signing you in to ${escapeHtml(partner.branding.displayName)}…</p>
<noscript><p>JavaScript is required to continue.</p></noscript>
${jsonBlock(config)}
<script>${ENTER_SCRIPT}</script></body></html>`;
}

export interface EnterConfirmPageInput {
  readonly partner: PartnerConfig;
  readonly decision: Extract<EntryDecision, { kind: "confirm" }>;
  readonly token: string;
  readonly path: string | undefined;
}

/** The confirmation page; see the module comment. */
export function renderEnterConfirmPage(input: EnterConfirmPageInput): string {
  const { partner, decision } = input;
  const brand = partner.branding;
  const colour = cssColour(brand.primaryColor);
  const who = [decision.signingIn.name, decision.signingIn.email].filter((part): part is string => Boolean(part));
  const whoText = who.length > 0 ? who.join(" ") : "the account this link signs in";
  const current = decision.current;
  const replacing = decision.reasons.includes("replaces-session")
    ? `<p id="replaces">You are signed in to Jupid${current && (current.name || current.email) ? ` as <strong>${escapeHtml([current.name, current.email].filter(Boolean).join(" "))}</strong>` : ""}. Continuing signs you out of that account.</p>`
    : "";
  const unverified = decision.reasons.includes("origin-unverified")
    ? `<p id="unverified">This sign-in link was not opened from ${escapeHtml(partner.displayName)}. If you did not just ask to open Jupid, close this page.</p>`
    : "";
  const logo = brand.logoUrl ? `<img src="${escapeHtml(brand.logoUrl)}" alt="" height="40">` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin">
<title>Continue to Jupid? — ${escapeHtml(brand.displayName)}</title>
<style>body{margin:0;min-height:100vh;display:grid;place-items:center;font:15px/1.5 system-ui,sans-serif;color:#334155;background:#f8fafc}main{max-width:28rem;margin:16px;padding:24px;background:#fff;border-top:4px solid ${colour};border-radius:8px;box-shadow:0 1px 3px #0002}h1{font-size:1.25rem;margin:.5rem 0}button{font:inherit;padding:10px 18px;border:0;border-radius:6px;color:#fff;background:${colour};cursor:pointer}</style>
</head><body><main>
${logo}
<h1 id="question">Continue to Jupid as <strong id="who">${escapeHtml(whoText)}</strong> from <strong id="partner">${escapeHtml(brand.displayName)}</strong>?</h1>
${unverified}${replacing}
<form method="post" action="${escapeHtml(action(partner))}" id="confirm">
<input type="hidden" name="token" value="${escapeHtml(input.token)}">
${input.path === undefined ? "" : `<input type="hidden" name="path" value="${escapeHtml(input.path)}">`}
<input type="hidden" name="confirm" value="1">
<button id="continue" type="submit">Continue</button>
</form>
</main></body></html>`;
}
