/**
 * The postMessage protocol between the partner page (the SDK, "parent") and
 * the Jupid frame (the bootstrap page at `/embed/{partnerId}` and, after
 * sign-in, the workspace at `/app/...`). Version {@link PROTOCOL_VERSION}.
 *
 * ## Naming the frame
 * The SDK creates `<iframe src="{appUrl}/embed/{partnerId}" allow="storage-access">`
 * — nothing secret, nothing variable in the URL — and sets the iframe's
 * `name` (the frame's `window.name`) to {@link frameName}: `jupid=1&id=<embedId>&origin=<parent origin>`.
 * `window.name` survives the frame's own navigations (bootstrap -> workspace ->
 * links inside the workspace), is never sent to a server, and can only be set
 * by the parent or the frame itself. The frame trusts neither field blindly:
 * the parent origin it talks to is `location.ancestorOrigins[0]` where the
 * browser provides it (Chromium, WebKit), else the claimed `origin`, and in
 * both cases only if it is one of the partner's allowed origins (which CSP
 * `frame-ancestors` has already enforced for every ancestor).
 *
 * ## Messages
 * Every message is a plain object `{type: "jupid:<kind>", embedId, ...}`.
 * Receivers check, in this order, and silently ignore anything else:
 * - frame: `event.source === window.parent` and `event.origin` === the verified parent origin;
 * - SDK: `event.source === iframe.contentWindow` and `event.origin` === the app origin;
 * - both: `data.embedId` is their own embed id (several embeds on one page never cross).
 * Senders always name the exact receiver origin as `targetOrigin`, never `*`.
 * No message ever carries the session credential; the token travels only parent -> frame.
 *
 * Frame -> parent ({@link FrameMessage}):
 * - `ready {v, title}`           bootstrap page is up (v = protocol version; title = partner branding)
 * - `authRequired {code, message}` a token was refused (401 TOKEN_* from the gateway), or — from the
 *                                workspace — the session has ended (`SESSION_REQUIRED`, after sign-out too)
 * - `error {code, message}`      anything else (ORIGIN_NOT_ALLOWED, PARTNER_DISABLED, STORAGE_BLOCKED, ...)
 * - `authenticated {firstRun, storage}` first workspace page after a sign-in has loaded
 * - `navigate {path}`            the workspace shows `path` (app pathname, without the workspace base path)
 * - `resize {height}`            the workspace content is `height` CSS pixels tall
 *
 * Parent -> frame ({@link ParentMessage}):
 * - `auth {v, token, initialPath?, shell?, chat?}`  a partner token for this mount's sign-in
 * - `navigate {path}`            show another workspace path
 * - `signOut {}`                 end the session and show the signed-out state
 *
 * ## Sign-in sequence (see docs/adr/0004-frame-sessions.md)
 * Every mount is authorised by the partner page for its current user: it always
 * starts from a partner token, and the session it gets is kept by this frame only.
 * 1. `mount()` calls `getToken()` at once (unless it was given `token`), while
 *    the frame loads; the bootstrap creates its DPoP key (non-extractable P-256,
 *    kept in IndexedDB under the embed id) meanwhile.
 * 2. frame -> `ready`; parent -> `auth {token}` as soon as it has both.
 * 3. `POST /embed/{id}/session {token, parentOrigin, ...}` with a DPoP proof: the
 *    answer's session credential (and the first view) go to the frame's
 *    sessionStorage under the embed id — never to the parent, a URL or a cookie;
 *    the frame marks `window.name` with `auth=first|again` and enters the workspace.
 * 4. The workspace (sdk/src/workspace/) reads the credential and the key, signs a proof
 *    for every data request, posts `authenticated` once (consuming the mark), then
 *    `navigate` on every page and `resize` whenever the content height changes.
 * 5. When the session ends (lifetime, idle timeout, sign-out elsewhere, partner
 *    disabled) the workspace shows so and posts `authRequired`; with `getToken` the
 *    SDK reloads the bootstrap in the frame (not the partner page) and signs in
 *    again at the last reported path, with a fresh token.
 */

/** Bumped on any incompatible change; both sides refuse other versions with PROTOCOL_MISMATCH. */
export const PROTOCOL_VERSION = 2;

/** The `Authorization` scheme of the frame session (RFC 9449); the gateway reads the same (lambdas/core/dpop.ts). */
export const DPOP_SCHEME = "DPoP";

/** Prefix of every message type. */
export const MESSAGE_PREFIX = "jupid:";

/** Tokens requested from `getToken` per sign-in attempt before the SDK gives up (reset on `authenticated`). */
export const MAX_TOKEN_ATTEMPTS = 3;

/** Codes the gateway answers with (lambdas/core/errors.ts); the SDK forwards them unchanged. */
export type GatewayErrorCode =
  | "BAD_REQUEST"
  | "TOKEN_MALFORMED"
  | "TOKEN_SIGNATURE_INVALID"
  | "TOKEN_EXPIRED"
  | "TOKEN_NOT_YET_VALID"
  | "TOKEN_LIFETIME_TOO_LONG"
  | "TOKEN_CLAIM_INVALID"
  | "TOKEN_ISSUER_MISMATCH"
  | "TOKEN_AUDIENCE_MISMATCH"
  | "TOKEN_REPLAYED"
  | "SESSION_REQUIRED"
  | "DPOP_PROOF_INVALID"
  | "DPOP_PROOF_REPLAYED"
  | "UNAUTHORIZED"
  | "ORIGIN_NOT_ALLOWED"
  | "PATH_NOT_ALLOWED"
  | "PARTNER_DISABLED"
  | "PARTNER_NOT_FOUND"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "OIDC_NOT_CONFIGURED"
  | "OIDC_ISSUER_MISMATCH"
  | "OIDC_STATE_MISMATCH"
  | "OIDC_LOGIN_REFUSED"
  | "OIDC_TOKEN_INVALID"
  | "OIDC_PROVIDER_UNAVAILABLE"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL";

/**
 * Codes raised in the browser:
 * - `HANDSHAKE_TIMEOUT`  the frame neither loaded nor answered in time (network, app down)
 * - `FRAME_BLOCKED`      the frame loaded but never said `ready`: the browser refused to show it
 *                        (CSP `frame-ancestors`: this page's origin is not in the partner's
 *                        allowedOrigins, or the partner id is unknown)
 * - `STORAGE_BLOCKED`    the frame cannot use its own storage (sessionStorage / IndexedDB unavailable)
 * - `PROTOCOL_MISMATCH`  the two sides speak different protocol versions (stale cached embed.js)
 * - `GET_TOKEN_FAILED`   the partner's `getToken()` threw, rejected or returned no string
 * - `NETWORK_ERROR`      the frame could not reach the gateway
 */
export type ClientErrorCode =
  | "HANDSHAKE_TIMEOUT"
  | "FRAME_BLOCKED"
  | "STORAGE_BLOCKED"
  | "PROTOCOL_MISMATCH"
  | "GET_TOKEN_FAILED"
  | "NETWORK_ERROR";

/** Every code an `authRequired` or `error` event can carry; open-ended so that a newer gateway's codes still type-check. */
export type EmbedErrorCode = GatewayErrorCode | ClientErrorCode | (string & {});

export type ShellMode = "full" | "embedded" | "minimal";

/** Where the session credential lives: `frame` = the frame's own partitioned storage (the only kind today). */
export type SessionStorageKind = "frame" | "cookie";

interface Envelope<K extends string> {
  readonly type: `jupid:${K}`;
  readonly embedId: string;
}

export type FrameMessage =
  | (Envelope<"ready"> & { readonly v: number; readonly title?: string })
  | (Envelope<"authRequired"> & { readonly code: string; readonly message?: string })
  | (Envelope<"error"> & { readonly code: string; readonly message: string })
  | (Envelope<"authenticated"> & { readonly firstRun: boolean; readonly storage: SessionStorageKind })
  | (Envelope<"navigate"> & { readonly path: string })
  | (Envelope<"resize"> & { readonly height: number });

export type ParentMessage =
  | (Envelope<"auth"> & {
      readonly v: number;
      readonly token: string;
      readonly initialPath?: string;
      readonly shell?: ShellMode;
      readonly chat?: boolean;
    })
  | (Envelope<"navigate"> & { readonly path: string })
  | Envelope<"signOut">;

/** JSON block of the bootstrap page (lambdas/http/pages/embed-page.ts -> sdk/src/frame/bootstrap.ts). */
export interface EmbedPageConfig {
  readonly partnerId: string;
  readonly allowedOrigins: readonly string[];
  /** The partner's branding name: the iframe title unless the SDK was given one. */
  readonly title: string;
  /** The server's clock (epoch s) when the page was made (see {@link WorkspacePageConfig.serverTime}). */
  readonly serverTime: number;
}

/** JSON block of the workspace page (lambdas/http/pages/workspace-page.ts -> sdk/src/frame/workspace.ts). */
export interface WorkspacePageConfig {
  readonly partnerId: string;
  readonly allowedOrigins: readonly string[];
  /** Workspace base path (`/embed/{partnerId}/app` in a frame); app paths are relative to it. */
  readonly basePath: string;
  /** The server's clock (epoch s) when the page was made: DPoP proofs use it, not the device's clock. */
  readonly serverTime: number;
  /** The framed app shell (fetches its view with the frame session) rather than the server-rendered top-level page. */
  readonly framed: boolean;
}

/** What the SDK puts into the iframe's `name` (and so the frame's `window.name`). */
export interface FrameName {
  readonly id: string;
  readonly origin: string;
  /** Set by the bootstrap right before it enters the workspace: `first` for a new user, else `again`. */
  readonly auth?: "first" | "again";
}

/** Encode {@link FrameName} as the iframe `name`. */
export function frameName(name: FrameName): string {
  const params = new URLSearchParams({ jupid: String(PROTOCOL_VERSION), id: name.id, origin: name.origin });
  if (name.auth) params.set("auth", name.auth);
  return params.toString();
}

/** Decode `window.name`; undefined unless it was written by {@link frameName}. */
export function parseFrameName(value: string): FrameName | undefined {
  const params = new URLSearchParams(value);
  const id = params.get("id");
  const auth = params.get("auth");
  if (params.get("jupid") !== String(PROTOCOL_VERSION) || !id) return undefined;
  return { id, origin: params.get("origin") ?? "", ...(auth === "first" || auth === "again" ? { auth } : {}) };
}

/**
 * The origin of the page that frames us, if it is allowed: the browser's own
 * `location.ancestorOrigins[0]` when available, else the origin the parent
 * claimed in the frame name. Undefined when neither is an allowed origin.
 */
export function parentOriginOf(
  ancestorOrigin: string | undefined,
  claimed: string | undefined,
  allowedOrigins: readonly string[],
): string | undefined {
  const origin = ancestorOrigin ?? claimed;
  return origin !== undefined && allowedOrigins.includes(origin) ? origin : undefined;
}

/**
 * A same-origin app path: starts with one `/`, no backslash, no control characters, and
 * still so after dot segments are resolved (`/.//evil.test` is `//evil.test`), as the
 * gateway judges it (lambdas/core/paths.ts).
 */
export function isAppPath(value: unknown): value is string {
  return (
    typeof value === "string" &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    /^\/(?![/\\])[^\\\u0000-\u001f\u007f]*$/.test(value) &&
    value.length <= 2048 &&
    !new URL(value, "https://app.invalid").pathname.startsWith("//")
  );
}
