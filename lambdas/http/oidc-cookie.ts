/**
 * The OIDC login-transaction cookie: set by /oidc/login, read and cleared by
 * /oidc/callback. First-party and top-level only: `SameSite=Lax` is sent on
 * the provider's top-level redirect back to us and on nothing cross-site
 * that could plant or read it; `__Host-` on https (no Domain, Path=/,
 * Secure), so no sibling subdomain can set it either. One per partner, so
 * sign-ins to two partners in one browser do not clobber each other.
 */
import { LOGIN_TRANSACTION_SECONDS } from "../core/oidc.ts";
import type { GatewaySettings } from "../core/settings.ts";

const ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Lax";

export function oidcCookieName(settings: Pick<GatewaySettings, "appUrl">, partnerId: string): string {
  // Browsers refuse __Host- from plain-http origins other than loopback; the local gateway uses a plain name.
  return `${settings.appUrl.startsWith("https://") ? "__Host-" : ""}jupid_oidc_${partnerId}`;
}

export function oidcTransactionCookie(settings: Pick<GatewaySettings, "appUrl">, partnerId: string, value: string): string {
  return `${oidcCookieName(settings, partnerId)}=${value}; Max-Age=${LOGIN_TRANSACTION_SECONDS}; ${ATTRIBUTES}`;
}

export function clearedOidcTransactionCookie(settings: Pick<GatewaySettings, "appUrl">, partnerId: string): string {
  return `${oidcCookieName(settings, partnerId)}=; Max-Age=0; ${ATTRIBUTES}`;
}

/** The transaction value from a Cookie header, if present. */
export function readOidcTransactionCookie(settings: Pick<GatewaySettings, "appUrl">, partnerId: string, cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  const name = oidcCookieName(settings, partnerId);
  for (const part of cookieHeader.split(";")) {
    const index = part.indexOf("=");
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}
