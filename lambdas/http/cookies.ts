/**
 * The session cookie of the top-level workspace (redirect entry only: frame
 * sessions use no cookie, see docs/adr/0004-frame-sessions.md). On https it is
 * `__Host-` (no Domain, Path=/, Secure); it is first-party, so `SameSite=Lax`:
 * other sites' subresource and form requests never carry it.
 */
import type { GatewaySettings } from "../core/settings.ts";

const SECURE_NAME = "__Host-jupid_session";
// Browsers refuse `__Host-` and `Secure` cookies from plain-http origins other than
// loopback; the local gateway on http uses a plain name and says so at start.
const PLAIN_NAME = "jupid_session";

export function sessionCookieName(settings: Pick<GatewaySettings, "appUrl">): string {
  return settings.appUrl.startsWith("https://") ? SECURE_NAME : PLAIN_NAME;
}

// Chromium and Firefox treat http://localhost and 127.0.0.1 as secure contexts, so Secure still
// works there (WebKit does not: test it on https, JUPID_TLS=1).
const ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Lax";

export function sessionCookie(settings: Pick<GatewaySettings, "appUrl">, sessionId: string, maxAgeSeconds: number): string {
  return `${sessionCookieName(settings)}=${sessionId}; Max-Age=${maxAgeSeconds}; ${ATTRIBUTES}`;
}

export function clearedSessionCookie(settings: Pick<GatewaySettings, "appUrl">): string {
  return `${sessionCookieName(settings)}=; Max-Age=0; ${ATTRIBUTES}`;
}

/** The session id from a Cookie header, if present. */
export function readSessionCookie(settings: Pick<GatewaySettings, "appUrl">, cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  const name = sessionCookieName(settings);
  for (const part of cookieHeader.split(";")) {
    const index = part.indexOf("=");
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}
