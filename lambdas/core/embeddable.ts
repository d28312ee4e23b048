/**
 * May this page embed this partner? The answer the public diagnostics
 * endpoint (GET /embed/{partnerId}/embeddable) gives and `jupid-embed doctor
 * origin` prints, from one function. It reveals nothing new: whether a partner
 * exists and which origins may frame it are already public in the embed
 * page's status and CSP `frame-ancestors`.
 */
import type { PartnerConfig } from "../../config/schema.ts";
import type { Embeddability } from "../../sdk/src/diagnose.ts";

export type { Embeddability } from "../../sdk/src/diagnose.ts";

/** `partner` is what the partner store returned for the id (undefined: no such partner). */
export function embeddability(
  partner: Pick<PartnerConfig, "enabled" | "allowedOrigins"> | undefined,
  origin: string,
  environment: string,
): Embeddability {
  return {
    partner: partner === undefined ? "unknown" : partner.enabled ? "known" : "disabled",
    // The exact-match rule of CSP frame-ancestors and of the session's parentOrigin check.
    origin: partner?.allowedOrigins.includes(origin) ? "allowed" : "not-allowed",
    environment,
  };
}
