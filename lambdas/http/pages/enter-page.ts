/**
 * GET /partner/{partnerId}/enter without a token: a page whose script (ENTER_SCRIPT,
 * allowed by hash) moves `#token=…&path=…` from the fragment into a POST form.
 *
 * The page overrides the gateway's `Referrer-Policy: no-referrer` with
 * `same-origin`: under no-referrer a browser sends `Origin: null` with the
 * form POST, which the enter handler (rightly) refuses. Same-origin still
 * sends nothing to other origins, and the token is gone from the URL before
 * the form is submitted.
 */
import type { PartnerConfig } from "../../../config/schema.ts";
import { cssColour, escapeHtml } from "./embed-page.ts";
import { ENTER_SCRIPT } from "./scripts.generated.ts";

export function renderEnterPage(partner: PartnerConfig): string {
  const action = `/partner/${encodeURIComponent(partner.id)}/enter`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(partner.branding.displayName)}</title>
<style>body{margin:0;min-height:100vh;display:grid;place-items:center;font:15px/1.5 system-ui,sans-serif;color:#334155}p{border-top:4px solid ${cssColour(partner.branding.primaryColor)};padding:16px}</style>
</head><body>
<form method="post" action="${escapeHtml(action)}" id="enter"><input type="hidden" name="token"><input type="hidden" name="path"></form>
<p id="message" role="status">Signing you in to ${escapeHtml(partner.branding.displayName)}…</p>
<noscript><p>JavaScript is required to continue.</p></noscript>
<script>${ENTER_SCRIPT}</script></body></html>`;
}
