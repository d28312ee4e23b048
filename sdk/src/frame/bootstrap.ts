/**
 * The iframe bootstrap: the inline script of GET /embed/{partnerId} (allowed by
 * its CSP hash). It greets the partner page, turns the partner's token into a
 * frame session bound to this frame's DPoP key, keeps that session in the
 * frame's own storage and enters the workspace. See sdk/src/protocol.ts.
 */
import { type EmbedPageConfig, frameName, isAppPath, PROTOCOL_VERSION } from "../protocol.ts";
import { clearSession, createFrameKey, saveSession, signProof } from "../workspace/frame-session.ts";
import { type ParentChannel, parentChannel, readConfig } from "./shared.ts";

const config = readConfig<EmbedPageConfig>();
const status = document.getElementById("status");
const show = (text: string) => {
  if (status) status.textContent = text;
};
const sessionUrl = `/embed/${config.partnerId}/session`;
const channel = parentChannel(config.allowedOrigins);

if (channel) start(channel);
else show("This page opens inside a partner app, through the Jupid embed SDK.");

interface SignInAnswer {
  readonly session?: string;
  readonly redirectTo?: string;
  readonly firstRun?: boolean;
  readonly view?: unknown;
  readonly error?: { readonly code?: string; readonly message?: string };
}

function start(parent: ParentChannel) {
  const embedId = parent.name.id;
  const clockOffset = config.serverTime - Date.now() / 1000;
  // A bootstrap load is always a fresh sign-in: whatever this embed held before is void.
  clearSession(embedId);
  // Made while the partner's token is on its way; rejected when the frame has no IndexedDB.
  const key = createFrameKey(embedId);
  key.catch(() => undefined);
  let busy = false;

  const fail = (status: number, body: SignInAnswer) => {
    const code = body.error?.code ?? (status ? "INTERNAL" : "NETWORK_ERROR");
    const message = body.error?.message ?? (status ? `HTTP ${status}` : "Jupid is unreachable");
    show(`Jupid could not sign you in (${code}): ${message}`);
    parent.post(status === 401 ? "jupid:authRequired" : "jupid:error", { code, message });
  };

  const storageBlocked = () => {
    show("This browser does not let Jupid keep its sign-in in this frame. Open Jupid in its own tab.");
    parent.post("jupid:error", { code: "STORAGE_BLOCKED", message: "the frame cannot use sessionStorage or IndexedDB" });
  };

  const signIn = async (message: Record<string, unknown>) => {
    if (busy) return;
    busy = true;
    const { token, initialPath, shell, chat } = message;
    try {
      if (typeof token !== "string" || !token) return;
      show("Signing in…");
      const { keys, stored } = (await key.catch(() => undefined)) ?? {};
      if (!keys || !stored) return storageBlocked();
      let response: Response;
      try {
        response = await fetch(sessionUrl, {
          method: "POST",
          credentials: "omit",
          headers: { "Content-Type": "application/json", DPoP: await signProof(keys, "POST", sessionUrl, clockOffset) },
          body: JSON.stringify({ token, parentOrigin: parent.origin, initialPath, shell, chat }),
        });
      } catch {
        return fail(0, {});
      }
      const body = (await response.json().catch(() => ({}))) as SignInAnswer;
      if (response.status !== 200 || !body.session || !isAppPath(body.redirectTo)) return fail(response.status, body);
      try {
        await stored;
        saveSession(embedId, { credential: body.session, partnerId: config.partnerId, view: body.view });
      } catch {
        return storageBlocked();
      }
      // The workspace reads the mark, reports `authenticated` once and removes it.
      window.name = frameName({ id: embedId, origin: parent.name.origin, auth: body.firstRun === true ? "first" : "again" });
      location.replace(body.redirectTo);
    } finally {
      busy = false;
    }
  };

  parent.listen((data) => {
    if (data.type === "jupid:auth") {
      if (data.v === PROTOCOL_VERSION) void signIn(data);
      else parent.post("jupid:error", { code: "PROTOCOL_MISMATCH", message: `the frame speaks protocol ${PROTOCOL_VERSION}` });
    } else if (data.type === "jupid:signOut") {
      show("You have signed out of Jupid.");
      parent.post("jupid:authRequired", { code: "SESSION_REQUIRED", message: "signed out" });
    }
  });
  show("Waiting for sign-in…");
  parent.post("jupid:ready", { v: PROTOCOL_VERSION, title: config.title });
}
