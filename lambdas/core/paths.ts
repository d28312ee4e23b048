/**
 * Where a signed-in user may be sent. `initialPath` comes from the partner's
 * page, so it is treated as hostile: only a same-origin relative path is
 * accepted, and only under the partner's `allowedPaths` when set.
 */
import type { PartnerConfig } from "../../config/schema.ts";
import { EmbedError } from "./errors.ts";

export const MAX_PATH_LENGTH = 2048;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
// %00-%1F and %7F, in either case: would decode to control characters somewhere downstream.
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;
const ENCODED_BACKSLASH = /%5c/i;
const BASE = "https://jupid.invalid";

const notAllowed = (message: string) => new EmbedError("PATH_NOT_ALLOWED", message);

/**
 * Validate and normalise a requested app path; returns the path to use.
 * Dot segments (also percent-encoded ones) are resolved before the prefix
 * check, so `/dashboard/../admin` is judged as `/admin`.
 */
export function resolveInitialPath(requested: unknown, partner: Pick<PartnerConfig, "allowedPaths">): string {
  if (requested === undefined || requested === null || requested === "") return defaultPath(partner);
  if (typeof requested !== "string") throw notAllowed("initialPath must be a string");
  if (requested.length > MAX_PATH_LENGTH) throw notAllowed(`initialPath must be at most ${MAX_PATH_LENGTH} characters`);
  if (!requested.startsWith("/")) throw notAllowed("initialPath must start with / (a path on the Jupid app, not a URL)");
  if (requested.startsWith("//")) throw notAllowed("initialPath must not start with // (that would leave the app)");
  if (requested.includes("\\") || ENCODED_BACKSLASH.test(requested)) throw notAllowed("initialPath must not contain a backslash");
  if (CONTROL_CHARS.test(requested) || ENCODED_CONTROL.test(requested)) {
    throw notAllowed("initialPath must not contain control characters");
  }
  const url = new URL(requested, BASE);
  if (url.origin !== BASE) throw notAllowed("initialPath must stay on the Jupid app");
  // Judged after normalisation: `/.//x`, `/%2e%2e//x` and `/a/..//x` all resolve to `//x`.
  const normalised = `${url.pathname}${url.search}${url.hash}`;
  if (!isAppRelative(normalised)) throw notAllowed("initialPath must not resolve to // or /\\ (that would leave the app)");
  if (!isWithin(url.pathname, partner.allowedPaths)) {
    throw notAllowed("initialPath is outside the paths this partner may open");
  }
  return normalised;
}

/**
 * True for a path that, used as a relative URL (a `Location` header, a link),
 * can only name a resource on the same origin: one leading `/`, not followed
 * by `/` or `\\` (which browsers read as another host), and no control
 * characters or whitespace (which URL parsers strip before deciding).
 */
export function isAppRelative(path: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  return /^\/(?![/\\])[^\\\s\u0000-\u001f\u007f-\u009f]*$/.test(path);
}

/** `/` unless the partner restricts paths and `/` is not among them; then its first allowed prefix. */
export function defaultPath(partner: Pick<PartnerConfig, "allowedPaths">): string {
  if (isWithin("/", partner.allowedPaths)) return "/";
  return partner.allowedPaths?.[0] ?? "/";
}

function isWithin(pathname: string, prefixes: readonly string[] | undefined): boolean {
  if (prefixes === undefined) return true;
  return prefixes.some((prefix) => {
    const base = prefix.endsWith("/") && prefix.length > 1 ? prefix.slice(0, -1) : prefix;
    return base === "/" || pathname === base || pathname.startsWith(`${base}/`);
  });
}

/**
 * The URL path the frame or browser is sent to: the app path under the
 * workspace base path. Every `Location` and `redirectTo` is built here, and
 * whatever the inputs, the result stays on the app origin or this throws.
 */
export function workspaceUrl(workspaceBasePath: string, path: string): string {
  const url = `${workspaceBasePath}${path}`;
  if (!isAppRelative(url)) throw notAllowed("the app path would leave the Jupid app");
  return url;
}

/** The framed workspace shell of a partner: `/embed/{partnerId}/app` + the app path (see lambdas/handlers/routes.ts). */
export function frameWorkspaceUrl(partnerId: string, path: string): string {
  return `/embed/${partnerId}/app${path}`;
}

/** The app path shown by a framed workspace URL path (inverse of {@link frameWorkspaceUrl}). */
export function frameWorkspacePath(partnerId: string, urlPath: string): string {
  return urlPath.slice(`/embed/${partnerId}/app`.length) || "/";
}
