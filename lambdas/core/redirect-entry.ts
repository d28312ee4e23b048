/**
 * The redirect entry (`/partner/{partnerId}/enter`) is a top-level sign-in,
 * so any site can send a browser there with a token of its own choosing
 * (login CSRF: the victim ends up in the attacker's Jupid account). It signs
 * in without a question only when the sign-in demonstrably started on one of
 * the partner's allowed origins and would not replace a live session of
 * another user. Otherwise the user is asked first ("Continue to Jupid as
 * <name> <email> from <partner>?"), and nothing is created, replaced or
 * consumed (not even the token's jti) until they confirm.
 *
 * The handler presents; this module decides.
 */
import type { Dependencies, JupidUser, PartnerRecord } from "../ports/index.ts";
import type { GatewaySettings } from "./settings.ts";
import { resolveInitialPath } from "./paths.ts";
import { sessionRefusal } from "./session-validity.ts";
import { findSession } from "./sessions.ts";
import { verifyPartnerToken } from "./token-policy.ts";

export interface EntryRequest {
  /** From `requirePartner`: known and enabled. */
  readonly partner: PartnerRecord;
  readonly token: unknown;
  readonly initialPath?: unknown;
  /**
   * The origin the sign-in was started from, as far as the browser told us:
   * the `Origin` of a partner page's form post, the `Referer` origin of a
   * `GET ?token=`, or the `document.referrer` origin our entry page reported.
   * Undefined when unknown (no referrer, `Origin: null`).
   */
  readonly startedFrom?: string;
  /** The user clicked "Continue" on the confirmation page. */
  readonly confirmed: boolean;
  /** The browser's current session cookie, if any. */
  readonly currentSessionId?: string;
}

/** Why the user is asked before signing in. */
export type ConfirmReason = "origin-unverified" | "replaces-session";

export type EntryDecision =
  | { readonly kind: "sign-in" }
  | {
      readonly kind: "confirm";
      readonly reasons: readonly ConfirmReason[];
      /** Who the token would sign in, from its verified claims. */
      readonly signingIn: { readonly name?: string; readonly email?: string };
      /** The user of the live session that would be replaced. */
      readonly current?: Pick<JupidUser, "name" | "email">;
    };

/**
 * Decide whether a redirect sign-in goes ahead or needs the user's
 * confirmation. Throws the sign-in's own error for a bad path or token, so a
 * bad request never reaches the confirmation page. Reads only: no write here.
 */
export async function decideEntry(
  deps: Pick<Dependencies, "partners" | "secrets" | "identities" | "sessions" | "clock">,
  settings: Pick<GatewaySettings, "sessionIdleTimeoutSeconds">,
  request: EntryRequest,
): Promise<EntryDecision> {
  const { partner } = request;
  resolveInitialPath(request.initialPath, partner);
  const claims = await verifyPartnerToken(request.token, partner, await deps.secrets.getKeys(partner.id), deps.clock());
  if (request.confirmed) return { kind: "sign-in" };

  const reasons: ConfirmReason[] = [];
  if (request.startedFrom === undefined || !partner.allowedOrigins.includes(request.startedFrom)) reasons.push("origin-unverified");

  let current: JupidUser | undefined;
  const live = await findSession(deps, settings, request.currentSessionId);
  if (live && !sessionRefusal(live, await deps.partners.get(live.partnerId))) {
    const tokenUserId = live.partnerId === partner.id ? await deps.identities.findUserId(partner.id, claims.sub) : undefined;
    if (tokenUserId !== live.userId) {
      reasons.push("replaces-session");
      current = await deps.identities.getUser(live.userId);
    }
  }
  if (reasons.length === 0) return { kind: "sign-in" };
  return {
    kind: "confirm",
    reasons,
    signingIn: { ...(claims.name === undefined ? {} : { name: claims.name }), ...(claims.email === undefined ? {} : { email: claims.email }) },
    ...(current ? { current: { name: current.name, email: current.email } } : {}),
  };
}

/** The origin of a URL-ish header value (Referer, document.referrer), or undefined when there is none. */
export function originOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.origin === "null" ? undefined : url.origin;
  } catch {
    return undefined;
  }
}
