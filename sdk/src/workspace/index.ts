/**
 * The workspace-side library: what the Jupid app (and the stub workspace)
 * includes on every page it serves inside a partner's frame.
 *
 * ```ts
 * const workspace = await connectWorkspace({ partnerId, allowedOrigins, basePath, serverTime });
 * if (workspace.kind === "signed-in") {
 *   render(workspace.view);                        // who is signed in, shell, chat, branding
 *   const res = await workspace.fetch("/api/...");  // credential + a fresh DPoP proof on every request
 *   workspace.ready();                             // bridge: authenticated, navigate, resize
 * }
 * ```
 * The app's backend hands `Authorization` and `DPoP` of each request, with its
 * method and URL, to `POST /internal/sessions/resolve` (README: "The Jupid app").
 * When the session ends (401 from any call, its lifetime or idle timeout, a
 * sign-out) the library forgets it, tells the partner page (`authRequired`) and
 * calls `onEnd` so the page can show a readable state.
 */
import { frameName, isAppPath, type WorkspacePageConfig } from "../protocol.ts";
import { type ParentChannel, parentChannel } from "../frame/shared.ts";
import { clearSession, loadFrameKey, loadSession, type StoredSession, saveSession, sessionHeaders } from "./frame-session.ts";

/** What `GET /embed/{partnerId}/session` answers (lambdas/core/sessions.ts `SessionView`). */
export interface WorkspaceView {
  readonly user: { readonly userId: string; readonly sub: string; readonly name?: string; readonly email?: string };
  readonly partner: { readonly id: string; readonly branding: { readonly displayName: string; readonly primaryColor: string } };
  readonly shell: string;
  readonly chat: boolean;
  readonly expiresAt: string;
  readonly idleTimeoutSeconds: number;
  readonly idleExpiresAt: string;
}

export interface SessionEnd {
  readonly code: string;
  readonly message: string;
  readonly signedOut: boolean;
}

export interface WorkspaceOptions extends Omit<WorkspacePageConfig, "framed"> {
  /** The session ended; the partner page has been told. Show a signed-out state. */
  readonly onEnd?: (end: SessionEnd) => void;
}

export type Workspace =
  | { readonly kind: "not-framed" }
  | { readonly kind: "signed-out"; readonly end: SessionEnd }
  | SignedInWorkspace;

export interface SignedInWorkspace {
  readonly kind: "signed-in";
  readonly view: WorkspaceView;
  /** `fetch` with the frame session: adds `Authorization: DPoP …` and a fresh proof. A 401 ends the session. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** Tell the partner page the workspace is shown: `authenticated` (once per sign-in), `navigate`, `resize`. */
  ready(): void;
  /** End the session here and at the gateway. */
  signOut(): Promise<void>;
}

/** Connect the page to its frame session and to the partner page. */
export async function connectWorkspace(options: WorkspaceOptions): Promise<Workspace> {
  const parent = parentChannel(options.allowedOrigins);
  if (!parent) return { kind: "not-framed" };
  const embedId = parent.name.id;
  const clockOffset = options.serverTime - Date.now() / 1000;
  const sessionUrl = `/embed/${options.partnerId}/session`;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;

  const end = (code: string, message: string, signedOut = false): SessionEnd => {
    const reason = { code, message, signedOut };
    if (ended) return reason;
    ended = true;
    clearTimeout(timer);
    clearSession(embedId);
    parent.post("jupid:authRequired", { code, message });
    options.onEnd?.(reason);
    return reason;
  };

  const stored = loadSession(embedId);
  if (stored?.partnerId !== options.partnerId) return { kind: "signed-out", end: end("SESSION_REQUIRED", "no Jupid session in this frame") };
  const session: StoredSession = stored;
  // Read while the page renders: the first page after sign-in shows its view before it needs the key.
  const keys = loadFrameKey(embedId).catch(() => undefined);

  const authFetch = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const method = (init.method ?? "GET").toUpperCase();
    const key = await keys;
    if (!key) {
      end("SESSION_REQUIRED", "the frame lost its session key");
      return new Response(null, { status: 401 });
    }
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(await sessionHeaders(session, key, method, url, clockOffset))) headers.set(name, value);
    const response = await fetch(url, { ...init, method, headers, credentials: "omit" });
    if (response.status === 401 || response.status === 403) {
      const body = (await response.clone().json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      end(body.error?.code ?? "SESSION_REQUIRED", body.error?.message ?? "the session has ended");
    }
    return response;
  };

  let view = session.view as WorkspaceView | undefined;
  if (view) {
    // The sign-in answer carried the first view: use it once, the next page asks the gateway.
    const { view: _first, ...rest } = session;
    saveSession(embedId, rest);
  } else {
    const response = await authFetch(sessionUrl).catch(() => undefined);
    if (!response) return { kind: "signed-out", end: end("NETWORK_ERROR", "Jupid is unreachable") };
    if (!response.ok) return { kind: "signed-out", end: end(response.status === 401 ? "SESSION_REQUIRED" : "INTERNAL", `the gateway answered ${response.status}`) };
    view = ((await response.json()) as { view: WorkspaceView }).view;
  }
  const shown = view;

  const scheduleEnd = () => {
    const at = Math.min(Date.parse(shown.expiresAt), Date.parse(shown.idleExpiresAt)) - clockOffset * 1000;
    timer = setTimeout(() => end("SESSION_REQUIRED", "the Jupid session has ended"), Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1));
  };

  const signOut = async () => {
    await authFetch(sessionUrl, { method: "DELETE" }).catch(() => undefined);
    end("SESSION_REQUIRED", "signed out", true);
  };

  return {
    kind: "signed-in",
    view: shown,
    fetch: authFetch,
    signOut,
    ready() {
      const { id, origin, auth } = parent.name;
      if (auth) {
        // The sign-in mark is read once: a reload of this page is not a new sign-in.
        window.name = frameName({ id, origin });
        parent.post("jupid:authenticated", { firstRun: auth === "first", storage: "frame" });
      }
      reportPath(parent, options.basePath);
      addEventListener("popstate", () => reportPath(parent, options.basePath));
      watchHeight(parent);
      scheduleEnd();
      parent.listen((data) => {
        if (data.type === "jupid:navigate" && isAppPath(data.path)) location.assign(options.basePath + data.path);
        else if (data.type === "jupid:signOut") void signOut();
      });
    },
  };
}

/** Only the pathname: query and fragment can hold codes (a bank's OAuth callback) that are none of the partner's business. */
function reportPath(parent: ParentChannel, basePath: string): void {
  parent.post("jupid:navigate", { path: location.pathname.slice(basePath.length) || "/" });
}

/**
 * Height of the content itself (the root box with height:auto), not of the
 * viewport, so that a frame sized to its content can shrink again.
 */
function watchHeight(parent: ParentChannel): void {
  let sent = 0;
  let pending = false;
  const measure = () => {
    pending = false;
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== sent) {
      sent = height;
      parent.post("jupid:resize", { height });
    }
  };
  const schedule = () => {
    if (!pending) {
      pending = true;
      setTimeout(measure, 50);
    }
  };
  // ResizeObserver only runs while the frame renders, and Chromium stops rendering cross-origin
  // frames that are out of view; DOM mutations and `load` still reach a frame below the fold.
  new ResizeObserver(schedule).observe(document.documentElement);
  new MutationObserver(schedule).observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
  addEventListener("load", schedule);
  measure();
}
