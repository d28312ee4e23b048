/**
 * The parent side of the embed: creates the iframe, runs the handshake of
 * sdk/src/protocol.ts, hands over tokens, applies sizes and reports events.
 * Nothing here runs at import; everything is created by {@link mountEmbed}
 * and released by its handle's `destroy()`.
 */
import { diagnose } from "./diagnose.ts";
import { frameName, isAppPath, MAX_TOKEN_ATTEMPTS, MESSAGE_PREFIX, PROTOCOL_VERSION } from "./protocol.ts";
import type { EmbedEvent, EmbedEventMap, EmbedEventType, EmbedHandle, MountOptions } from "./types.ts";

/** No `load` and no `ready` within this time: HANDSHAKE_TIMEOUT. */
const HANDSHAKE_TIMEOUT_MS = 20_000;
/** `load` fired but no `ready` within this time: the browser refused the frame (FRAME_BLOCKED). */
const BLOCKED_GRACE_MS = 2_500;
const SHRINK_HYSTERESIS_PX = 16;
const PARTNER_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

type Listener = (event: EmbedEvent) => void;

/** Live handle per container, so that mounting twice into one element replaces the first embed instead of leaking it. */
const mounted = new WeakMap<Element, EmbedHandle>();

const fail = (message: string): never => {
  throw new Error(`[JupidEmbed] ${message}`);
};

export function mountEmbed(options: MountOptions, defaultAppUrl: string): EmbedHandle {
  const { partnerId, getToken, autoResize } = options;
  const container =
    typeof options.container === "string" ? document.querySelector(options.container) : options.container;
  if (!container) fail("container not found");
  if (!PARTNER_ID.test(partnerId)) fail("partnerId is invalid");
  if (!options.token && !getToken) fail("token or getToken is required");
  if (options.initialPath !== undefined && !isAppPath(options.initialPath)) fail("initialPath must be an app path like /dashboard");
  const appOrigin = new URL(options.appUrl ?? defaultAppUrl).origin;
  const el = container as Element;
  mounted.get(el)?.destroy();

  const embedId = Array.from(crypto.getRandomValues(new Uint32Array(3)), (n) => n.toString(36)).join("");
  const resize = autoResize ? { minHeight: 200, maxHeight: 10_000, ...(autoResize === true ? {} : autoResize) } : undefined;
  const listeners = new Set<[EmbedEventType, Listener]>();
  const iframe = document.createElement("iframe");
  const src = `${appOrigin}/embed/${partnerId}`;

  /** A token in hand for the next sign-in (the `token` option, or what `getToken` returned early). */
  let pendingToken = options.token;
  let path = options.initialPath;
  let destroyed = false;
  let awaitingReady = true;
  /** The bootstrap of the current frame load said `ready` and waits for a token. */
  let frameWaiting = false;
  /** The frame shows the bootstrap page (between `ready` and `authenticated`). */
  let inBootstrap = true;
  let readySeen = false;
  let signedOut = false;
  let fetching = false;
  let attempts = 0;
  let height = 0;
  let lastGrowth = 0;
  let growthStreak = 0;
  let lastGrowthAt = 0;
  let handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  let blockedTimer: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const emit = <K extends EmbedEventType>(type: K, payload = {} as EmbedEventMap[K]) => {
    const event = { type, ...payload } as EmbedEvent;
    for (const fn of [options.onEvent, ...Array.from(listeners, ([t, f]) => (t === type ? f : undefined))]) {
      try {
        fn?.(event);
      } catch (error) {
        // A throwing partner callback must not break the embed.
        console.error(error);
      }
    }
  };
  const error = (code: string, message: string) => emit("error", { code, message });
  const post = (kind: string, data: object = {}) =>
    iframe.contentWindow?.postMessage({ type: MESSAGE_PREFIX + kind, embedId, ...data }, appOrigin);
  /** Hand a token to the bootstrap if it is waiting for one, else keep it for its `ready`. */
  const offerToken = (token: string) => {
    if (!frameWaiting) {
      pendingToken = token;
      return;
    }
    frameWaiting = false;
    post("auth", { v: PROTOCOL_VERSION, token, initialPath: path, shell: options.shell, chat: options.chat });
  };
  const stopTimers = () => {
    clearTimeout(handshakeTimer);
    clearTimeout(blockedTimer);
  };
  const connect = () => {
    awaitingReady = inBootstrap = true;
    stopTimers();
    handshakeTimer = setTimeout(() => explain("HANDSHAKE_TIMEOUT", "the Jupid frame did not answer"), HANDSHAKE_TIMEOUT_MS);
  };
  /** The frame never answered: ask the gateway why (unknown partner, disabled, origin not allowed, unreachable); `fallback` when it finds nothing wrong. */
  const explain = (fallback: string, message: string) =>
    diagnose(appOrigin, partnerId, location.origin).then((found) => {
      if (!destroyed) found.code === "HANDSHAKE_TIMEOUT" ? error(fallback, message) : error(found.code, found.message);
    });

  /** Ask the partner for one fresh token (never two at once, at most MAX_TOKEN_ATTEMPTS per sign-in); false if it cannot. */
  const refresh = (): boolean => {
    if (fetching) return true;
    if (!getToken || destroyed || attempts >= MAX_TOKEN_ATTEMPTS) return false;
    attempts++;
    fetching = true;
    new Promise<string>((resolve) => resolve(getToken())).then(
      (token) => {
        fetching = false;
        if (destroyed) return;
        if (typeof token !== "string" || !token) throw new Error("getToken() returned no token");
        offerToken(token);
      },
      (cause: unknown) => {
        fetching = false;
        if (destroyed) return;
        error("GET_TOKEN_FAILED", cause instanceof Error ? cause.message : String(cause));
        if (attempts < MAX_TOKEN_ATTEMPTS) retryTimer = setTimeout(refresh, 1000 * attempts);
      },
    ).catch((cause: Error) => error("GET_TOKEN_FAILED", cause.message));
    return true;
  };

  const applyHeight = (reported: number) => {
    if (!resize) return emit("resize", { height: reported });
    const next = Math.min(resize.maxHeight, Math.max(resize.minHeight, Math.ceil(reported)));
    const delta = next - height;
    if (delta === 0 || (delta < 0 && -delta <= SHRINK_HYSTERESIS_PX)) return;
    if (delta > 0) {
      // Content that grows by the same amount every time we grow the frame is sized by the frame (vh, %): stop feeding it.
      const now = Date.now();
      growthStreak = delta === lastGrowth && now - lastGrowthAt < 1000 ? growthStreak + 1 : 0;
      lastGrowth = delta;
      lastGrowthAt = now;
      if (growthStreak >= 2) return;
    } else growthStreak = 0;
    height = next;
    iframe.style.height = `${next}px`;
    emit("resize", { height: next });
  };

  const onMessage = (event: MessageEvent) => {
    const data = event.data;
    if (event.source !== iframe.contentWindow || event.origin !== appOrigin || data?.embedId !== embedId) return;
    switch (data.type) {
      case "jupid:ready":
        awaitingReady = false;
        inBootstrap = true;
        stopTimers();
        if (data.v !== PROTOCOL_VERSION) {
          return error("PROTOCOL_MISMATCH", `embed.js speaks protocol ${PROTOCOL_VERSION}, the frame ${data.v}`);
        }
        if (!options.title && data.title) iframe.title = data.title;
        if (!readySeen) emit("ready");
        readySeen = true;
        frameWaiting = true;
        if (pendingToken) {
          const token = pendingToken;
          pendingToken = undefined;
          offerToken(token);
        } else if (signedOut || !refresh()) emit("authRequired", { code: "SESSION_REQUIRED", message: "no token for this sign-in" });
        return;
      case "jupid:authRequired":
        emit("authRequired", { code: data.code, message: data.message ?? "" });
        if (signedOut) return;
        if (inBootstrap) {
          // The token was refused: the bootstrap waits for another one.
          frameWaiting = true;
          return void refresh();
        }
        // The workspace's session ended: sign in again in the frame, where the partner page cannot see a reload.
        if (getToken) reload();
        return;
      case "jupid:error":
        error(data.code, data.message);
        // The gateway or the network failed, not the token: one fresh token is worth a try.
        if (inBootstrap && !signedOut && (data.code === "SERVICE_UNAVAILABLE" || data.code === "NETWORK_ERROR")) {
          frameWaiting = true;
          refresh();
        }
        return;
      case "jupid:authenticated":
        attempts = 0;
        inBootstrap = false;
        return emit("authenticated", { firstRun: data.firstRun === true, storage: data.storage === "cookie" ? "cookie" : "frame" });
      case "jupid:navigate":
        path = data.path;
        return emit("navigate", { path: data.path });
      case "jupid:resize":
        if (typeof data.height === "number") applyHeight(data.height);
    }
  };

  const onLoad = () => {
    if (!awaitingReady) return;
    clearTimeout(blockedTimer);
    blockedTimer = setTimeout(() => {
      stopTimers();
      explain("FRAME_BLOCKED", "the browser refused to show the Jupid frame");
    }, BLOCKED_GRACE_MS);
  };
  /** Load the bootstrap page again (a new handshake and a fresh token); the partner page stays as it is. */
  const reload = () => {
    attempts = 0;
    frameWaiting = false;
    connect();
    refresh();
    iframe.src = src;
  };

  const handle: EmbedHandle = {
    iframe,
    on(type, listener) {
      const entry: [EmbedEventType, Listener] = [type, listener as Listener];
      listeners.add(entry);
      return () => listeners.delete(entry);
    },
    navigate(next) {
      if (!isAppPath(next)) fail("navigate() needs an app path like /dashboard");
      path = next;
      if (signedOut && getToken) {
        signedOut = false;
        reload();
      } else post("navigate", { path: next });
    },
    signOut() {
      signedOut = true;
      pendingToken = undefined;
      post("signOut");
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      stopTimers();
      clearTimeout(retryTimer);
      removeEventListener("message", onMessage);
      iframe.removeEventListener("load", onLoad);
      iframe.remove();
      if (mounted.get(el) === handle) mounted.delete(el);
      emit("destroyed");
      listeners.clear();
    },
  };

  iframe.name = frameName({ id: embedId, origin: location.origin });
  iframe.title = options.title ?? "Jupid";
  // Without autoResize the frame fills the container; min-height:inherit covers a container sized only by min-height, where 100% is auto (150 px).
  iframe.style.cssText = `display:block;border:0;width:100%;${resize ? `height:${resize.minHeight}px` : "height:100%;min-height:inherit"}`;
  height = resize?.minHeight ?? 0;
  addEventListener("message", onMessage);
  iframe.addEventListener("load", onLoad);
  connect();
  // Every mount starts from a token the partner page vouches for now; fetch it while the frame loads
  // (a microtask later, so that React StrictMode's mount/destroy/mount asks only once).
  if (!pendingToken) queueMicrotask(() => void (destroyed || refresh()));
  iframe.src = src;
  el.appendChild(iframe);
  mounted.set(el, handle);
  if (!resize && el.clientHeight < 200) console.warn(`[JupidEmbed] the container is ${el.clientHeight} px tall: give it a height (e.g. min-height: 720px) or use autoResize`);
  return handle;
}
