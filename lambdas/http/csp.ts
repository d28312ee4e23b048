/**
 * Content-Security-Policy for Jupid pages. The CDK stack imports these same
 * functions for its CloudFront response-headers policies, so the header the
 * edge adds and the one the Lambda returns can never disagree.
 */
import { ENTER_SCRIPT_HASH, FRAME_SCRIPT_HASH, WORKSPACE_SCRIPT_HASH } from "./pages/scripts.generated.ts";

/** `frame-ancestors` for a partner's origins; no origins means nobody may frame the page. */
export function frameAncestors(origins: readonly string[]): string {
  return origins.length === 0 ? "frame-ancestors 'none'" : `frame-ancestors ${origins.join(" ")}`;
}

function policy(scriptHash: string, ancestors: string): string {
  return [
    "default-src 'none'",
    `script-src '${scriptHash}'`,
    "style-src 'unsafe-inline'",
    "img-src 'self' https: data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    ancestors,
  ].join("; ");
}

/** The iframe bootstrap page of a partner: only its inline script, framed only by the partner's origins. */
export function embedPageCsp(origins: readonly string[]): string {
  return policy(FRAME_SCRIPT_HASH, frameAncestors(origins));
}

/** The stub workspace, framed by the signed-in partner's origins (or none outside an embed). */
export function workspacePageCsp(origins: readonly string[]): string {
  return policy(WORKSPACE_SCRIPT_HASH, frameAncestors(origins));
}

/** The redirect-entry page that reads `#token=` and posts it; never framed. */
export function enterPageCsp(): string {
  return policy(ENTER_SCRIPT_HASH, frameAncestors([]));
}

/** The redirect entry's confirmation page: no script at all, a form that posts to our origin, never framed. */
export function enterConfirmPageCsp(): string {
  return ["default-src 'none'", "style-src 'unsafe-inline'", "img-src 'self' https: data:", "form-action 'self'", "base-uri 'none'", frameAncestors([])].join("; ");
}
