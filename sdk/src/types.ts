/** Public types of the Jupid embed SDK (shared by the ESM entry and `window.JupidEmbed`). */
import type { EmbedErrorCode, SessionStorageKind, ShellMode } from "./protocol.ts";

export type { ClientErrorCode, EmbedErrorCode, GatewayErrorCode, SessionStorageKind, ShellMode } from "./protocol.ts";

export interface AutoResizeOptions {
  /** Height before the first measurement and the smallest height ever set, in CSS pixels. @default 200 */
  readonly minHeight?: number;
  /** The iframe never grows beyond this; the workspace scrolls inside it. @default 10000 */
  readonly maxHeight?: number;
}

export interface MountOptions {
  /** Your partner id, as Jupid configured it (e.g. `acme-books`). */
  readonly partnerId: string;
  /** Element (or CSS selector of the element) the iframe is appended to. Must have a height unless `autoResize` is on. */
  readonly container: Element | string;
  /**
   * Origin of the Jupid app. embed.js: defaults to the origin embed.js was
   * loaded from. ESM: defaults to `https://app.jupid.com`.
   */
  readonly appUrl?: string;
  /** A token your server minted for this page view and user. Used once; later sign-ins need `getToken`. */
  readonly token?: string;
  /**
   * Returns a fresh token from your server for the user logged in to your app now
   * (e.g. `fetch("/api/jupid/embed-token")`). Called at `mount()` (unless `token` was given,
   * while the frame loads), and again only when a token was refused or the session ended.
   * At most one call is in flight; at most 3 per sign-in.
   */
  readonly getToken?: () => Promise<string> | string;
  /** App path to open for returning users (new users see the partner's first-run path). @default "/" */
  readonly initialPath?: string;
  /** Shell override; honoured only where your partner configuration allows it. */
  readonly shell?: ShellMode;
  /** Chat override; honoured only where your partner configuration allows it. */
  readonly chat?: boolean;
  /** The iframe's `title` (accessibility). @default your branding's display name */
  readonly title?: string;
  /**
   * Off (default): the iframe fills the container (width and height 100%).
   * On: the iframe's height follows the workspace content, within `minHeight`..`maxHeight`;
   * it grows at once, shrinks only by more than 16 px, and stops growing when
   * the content grows with the frame itself (e.g. `min-height: 100vh` plus margins).
   */
  readonly autoResize?: boolean | AutoResizeOptions;
  /** Receives every event (same objects as `on`). */
  readonly onEvent?: (event: EmbedEvent) => void;
}

/** Payload of each event type; the event object is `{type, ...payload}`. */
export interface EmbedEventMap {
  /** The Jupid frame is up and answered the handshake (once per mount). */
  ready: Record<never, never>;
  /**
   * The user is signed in and the workspace has loaded. `storage` says where the session lives:
   * `frame` = in the Jupid frame's own partitioned storage (no third-party cookie). Never carries a token or session id.
   */
  authenticated: { readonly firstRun: boolean; readonly storage: SessionStorageKind };
  /**
   * A sign-in is needed: the token was refused (`code` = TOKEN_*), or the session ended
   * (`SESSION_REQUIRED`: expiry, idle timeout, sign-out; `PARTNER_DISABLED`). With `getToken` the SDK recovers by itself.
   */
  authRequired: { readonly code: EmbedErrorCode; readonly message: string };
  /** The workspace shows `path` (app path, e.g. `/reports/2026`). */
  navigate: { readonly path: string };
  /** The workspace content height (auto-resize: the height the iframe was given). */
  resize: { readonly height: number };
  /** Something failed; `code` is a gateway code or a client code (HANDSHAKE_TIMEOUT, FRAME_BLOCKED, ...). */
  error: { readonly code: EmbedErrorCode; readonly message: string };
  /** `destroy()` ran; the last event of a handle. */
  destroyed: Record<never, never>;
}

export type EmbedEventType = keyof EmbedEventMap;

export type EmbedEventOf<K extends EmbedEventType> = { readonly type: K } & EmbedEventMap[K];

export type EmbedEvent = { [K in EmbedEventType]: EmbedEventOf<K> }[EmbedEventType];

export interface EmbedHandle {
  /** The iframe element (already in the container). */
  readonly iframe: HTMLIFrameElement;
  /** Subscribe to one event type; returns the unsubscribe function. */
  on<K extends EmbedEventType>(type: K, listener: (event: EmbedEventOf<K>) => void): () => void;
  /** Show another app path (before sign-in: changes the path opened after it). After `signOut()`, signs in again there (needs `getToken`). */
  navigate(path: string): void;
  /** End this embed's Jupid session; emits `authRequired {code: "SESSION_REQUIRED"}`, the frame shows a signed-out state, and it does not sign in again by itself. */
  signOut(): void;
  /** Remove the iframe and every listener, timer and observer. Idempotent. The session is of no use to any later mount. */
  destroy(): void;
}

/** `window.JupidEmbed`, as installed by embed.js. */
export interface JupidEmbedGlobal {
  readonly version: string;
  mount(options: MountOptions): EmbedHandle;
}
