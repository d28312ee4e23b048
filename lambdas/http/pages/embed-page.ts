// PLACEHOLDER (owned by the SDK engineer): the iframe bootstrap page.
import type { PartnerConfig } from "../../../config/schema.ts";
import { FRAME_SCRIPT } from "./scripts.generated.ts";

export interface EmbedPageInput {
  readonly partner: PartnerConfig;
  readonly appUrl: string;
}

export function renderEmbedPage(input: EmbedPageInput): string {
  const config = JSON.stringify({ partnerId: input.partner.id, allowedOrigins: input.partner.allowedOrigins });
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(input.partner.branding.displayName)}</title></head><body><script type="application/json" id="jupid-config">${config.replace(/</g, "\\u003c")}</script><script>${FRAME_SCRIPT}</script></body></html>`;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
