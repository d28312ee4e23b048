/**
 * Whether a stored, unexpired session may still be used. One rule for every
 * use of a session (the workspace, `/internal/sessions/resolve`, the frame's
 * own requests): its partner must still exist, be enabled, and not have
 * revoked its sessions since this one was created (the session epoch).
 */
import { EmbedError } from "./errors.ts";
import type { PartnerRecord, Session } from "../ports/index.ts";

/** Why `session` may not be used with `partner` (its partner's record, or undefined), or undefined when it may. */
export function sessionRefusal(session: Session, partner: PartnerRecord | undefined): EmbedError | undefined {
  if (!partner || partner.id !== session.partnerId) return new EmbedError("SESSION_REQUIRED", "the session's partner no longer exists");
  if (!partner.enabled) return new EmbedError("SESSION_REQUIRED", "the session's partner is disabled");
  if (session.epoch < (partner.sessionEpoch ?? 0)) {
    return new EmbedError("SESSION_REQUIRED", "the partner's sessions were revoked; sign in again");
  }
  return undefined;
}

/** Throws SESSION_REQUIRED unless `session` may be used with `partner` (see {@link sessionRefusal}). */
export function assertSessionUsable(session: Session, partner: PartnerRecord | undefined): asserts partner is PartnerRecord {
  const refusal = sessionRefusal(session, partner);
  if (refusal) throw refusal;
}
