/**
 * The iframe bootstrap: the inline script of GET /embed/{partnerId}
 * (allowed by its CSP hash). It greets the partner page, turns a token (or a
 * live session cookie) into a session and replaces itself with the
 * workspace. See sdk/src/protocol.ts for the sequence.
 */
import { type EmbedPageConfig, frameName, isAppPath, PROTOCOL_VERSION } from "../protocol.ts";
import { call, type ParentChannel, parentChannel, readConfig, type SessionAnswer } from "./shared.ts";

const config = readConfig<EmbedPageConfig>();
const status = document.getElementById("status");
const button = document.getElementById("continue");
const show = (text: string) => {
  if (status) status.textContent = text;
};
const sessionUrl = `/embed/${config.partnerId}/session`;
const channel = parentChannel(config.allowedOrigins);

if (channel) start(channel);
else show("This page opens inside a partner app, through the Jupid embed SDK.");

function start(parent: ParentChannel) {
  let busy = false;

  const fail = (status: number, body: SessionAnswer) => {
    const code = body.error?.code ?? (status ? "INTERNAL" : "NETWORK_ERROR");
    show(`Jupid could not sign you in (${code}).`);
    if (status === 401) parent.post("jupid:authRequired", { code });
    else parent.post("jupid:error", { code, message: body.error?.message ?? (status ? `HTTP ${status}` : "Jupid is unreachable") });
  };

  const enter = (redirectTo: string | undefined, firstRun: boolean) => {
    if (!isAppPath(redirectTo)) return fail(500, {});
    // The workspace bridge reads the mark, reports `authenticated` once and removes it.
    window.name = frameName({ id: parent.name.id, origin: parent.name.origin, auth: firstRun ? "first" : "again" });
    location.replace(redirectTo);
  };

  const storageBlocked = () => {
    parent.post("jupid:error", { code: "STORAGE_BLOCKED", message: "the browser blocked Jupid's session cookie in this frame" });
    show("Your browser blocked Jupid's sign-in cookie in this frame.");
    if (button && "requestStorageAccess" in document) {
      button.hidden = false;
      // Needs a click inside the frame; afterwards a fresh token signs in with unpartitioned storage.
      button.onclick = () =>
        document.requestStorageAccess().then(
          () => {
            button.hidden = true;
            show("Signing in…");
            parent.post("jupid:tokenRequired", {});
          },
          () => show("Allow cookies for Jupid in your browser settings, or open Jupid in its own tab."),
        );
    }
  };

  const signIn = async (message: Record<string, unknown>) => {
    if (busy) return;
    busy = true;
    const { token, initialPath, shell, chat } = message;
    try {
      show("Signing in…");
      if (typeof token !== "string" || !token) {
        // No token in hand: a live session cookie for this partner makes one unnecessary.
        const query = typeof initialPath === "string" ? `?initialPath=${encodeURIComponent(initialPath)}` : "";
        const probe = await call("GET", sessionUrl + query);
        if (probe.status === 200) return enter(probe.body.redirectTo, false);
        if (probe.status !== 401) return fail(probe.status, probe.body);
        show("Waiting for sign-in…");
        return parent.post("jupid:tokenRequired", {});
      }
      const session = await call("POST", sessionUrl, { token, parentOrigin: parent.origin, initialPath, shell, chat });
      if (session.status !== 200) return fail(session.status, session.body);
      // Third-party storage rules may have dropped the cookie: prove it is there before leaving this page.
      if ((await call("GET", sessionUrl)).status !== 200) return storageBlocked();
      enter(session.body.redirectTo, session.body.firstRun === true);
    } finally {
      busy = false;
    }
  };

  parent.listen((data) => {
    if (data.type === "jupid:auth") {
      if (data.v === PROTOCOL_VERSION) void signIn(data);
      else parent.post("jupid:error", { code: "PROTOCOL_MISMATCH", message: `the frame speaks protocol ${PROTOCOL_VERSION}` });
    } else if (data.type === "jupid:signOut") {
      void call("DELETE", sessionUrl).then(() => location.replace(`/embed/${config.partnerId}`));
    }
  });
  parent.post("jupid:ready", { v: PROTOCOL_VERSION, title: config.title });
}
