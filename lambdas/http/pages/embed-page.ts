/**
 * GET /embed/{partnerId}: the iframe bootstrap page. Its only script is the
 * generated FRAME_SCRIPT (allowed by hash, see ../csp.ts); the partner data it
 * needs travels in a non-executed JSON block. Protocol: sdk/src/protocol.ts.
 */
import type { PartnerConfig } from "../../../config/schema.ts";
import type { EmbedPageConfig } from "../../../sdk/src/protocol.ts";
import { FRAME_SCRIPT } from "./scripts.generated.ts";

export interface EmbedPageInput {
  readonly partner: PartnerConfig;
  /** The server's clock, epoch ms (the frame signs its DPoP proofs by it). */
  readonly now: number;
}

export function renderEmbedPage(input: EmbedPageInput): string {
  const { partner } = input;
  const config: EmbedPageConfig = {
    partnerId: partner.id,
    allowedOrigins: partner.allowedOrigins,
    title: partner.branding.displayName,
    serverTime: Math.floor(input.now / 1000),
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(partner.branding.displayName)}</title>
<style>html,body{margin:0;height:100%}body{display:grid;place-items:center;font:15px/1.5 system-ui,sans-serif;color:#334155;background:#fff}main{text-align:center;padding:16px}button{font:inherit;padding:8px 16px;border:0;border-radius:6px;color:#fff;background:${cssColour(partner.branding.primaryColor)};cursor:pointer}</style>
</head><body><main><p id="status" role="status">Connecting to Jupid…</p></main>
${jsonBlock(config)}
<script>${FRAME_SCRIPT}</script></body></html>`;
}

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * `<script type="application/json" id="jupid-config">`: data, never executed.
 * `<` is escaped so that no value can close the element.
 */
export function jsonBlock(value: unknown): string {
  const json = JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
  return `<script type="application/json" id="jupid-config">${json}</script>`;
}

/** A `#rrggbb` colour for CSS (the schema guarantees the shape; anything else falls back to slate). */
export function cssColour(value: string): string {
  return /^#[0-9a-fA-F]{6}$/.test(value) ? value : "#334155";
}
