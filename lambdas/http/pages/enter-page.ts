// PLACEHOLDER (owned by the SDK engineer): the redirect-entry page that reads #token=…&path=… and POSTs it.
import type { PartnerConfig } from "../../../config/schema.ts";
import { escapeHtml } from "./embed-page.ts";
import { ENTER_SCRIPT } from "./scripts.generated.ts";

export function renderEnterPage(partner: PartnerConfig): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(partner.branding.displayName)}</title></head><body><form method="post" id="enter"><input type="hidden" name="token"><input type="hidden" name="path"></form><noscript>JavaScript is required to continue.</noscript><script>${ENTER_SCRIPT}</script></body></html>`;
}
