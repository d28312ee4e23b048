/**
 * The stub workspace's page script, built on the workspace library
 * (sdk/src/workspace/) exactly as the real Jupid app uses it. Framed, it
 * fills the app shell from the frame session's view and bridges to the
 * partner page; at top level (redirect entry) the server has rendered the
 * page already and the script does nothing.
 */
import type { WorkspacePageConfig } from "../protocol.ts";
import { connectWorkspace, type SessionEnd, type WorkspaceView } from "../workspace/index.ts";
import { readConfig } from "./shared.ts";

const config = readConfig<WorkspacePageConfig>();
const byId = (id: string) => document.getElementById(id);
const state = byId("state");

const showState = (text: string) => {
  byId("workspace")?.setAttribute("hidden", "");
  byId("chat-panel")?.setAttribute("hidden", "");
  if (state) {
    state.textContent = text;
    state.hidden = false;
  }
};

const describeEnd = (end: SessionEnd) =>
  end.signedOut
    ? "You have signed out of Jupid."
    : end.code === "SESSION_REQUIRED"
      ? "Your Jupid session has ended. Open Jupid again from the app you came from."
      : `Jupid is not available here (${end.code}): ${end.message}`;

function fill(view: WorkspaceView) {
  const brand = view.partner.branding;
  const values: Record<string, string> = {
    user: view.user.userId,
    name: view.user.name ?? "",
    email: view.user.email ?? "",
    partner: view.partner.id,
    sub: view.user.sub,
    shell: view.shell,
    chat: String(view.chat),
    branding: `${brand.displayName} ${brand.primaryColor}`,
    expires: view.expiresAt,
  };
  for (const [id, value] of Object.entries(values)) {
    const element = byId(id);
    if (element) element.textContent = value;
  }
  document.body.dataset.shell = view.shell;
  byId("chat-panel")?.toggleAttribute("hidden", !view.chat);
  state?.setAttribute("hidden", "");
  byId("workspace")?.removeAttribute("hidden");
}

if (config.framed) {
  void connectWorkspace({ ...config, onEnd: (end) => showState(describeEnd(end)) }).then((workspace) => {
    if (workspace.kind === "not-framed") showState("This page opens inside a partner app, through the Jupid embed SDK.");
    else if (workspace.kind === "signed-in") {
      fill(workspace.view);
      workspace.ready();
    }
  });
}
