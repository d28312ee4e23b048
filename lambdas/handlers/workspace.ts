/**
 * GET /app/* — the stub workspace. The real Jupid app is a separate product;
 * this page stands in for it so that the whole flow can be seen and tested:
 * it shows the signed-in user, partner, path, shell, chat and branding.
 */
import { sessionRefusal } from "../core/session-validity.ts";
import { findSession } from "../core/sessions.ts";
import { readSessionCookie } from "../http/cookies.ts";
import { frameAncestors, workspacePageCsp } from "../http/csp.ts";
import { httpHandler } from "../http/handler.ts";
import { renderSignedOutPage, renderWorkspacePage } from "../http/pages/workspace-page.ts";
import { header, requireMethod } from "../http/request.ts";
import { html } from "../http/responses.ts";
import { awsRuntime, type RuntimeSource } from "./runtime.ts";

export function createWorkspaceHandler(runtime: RuntimeSource) {
  return httpHandler("workspace", async (event) => {
    requireMethod(event, "GET", "HEAD");
    const { deps, settings } = runtime();
    const session = await findSession(deps, readSessionCookie(settings, header(event, "cookie")));
    const [user, partner] = session
      ? await Promise.all([deps.identities.getUser(session.userId), deps.partners.get(session.partnerId)])
      : [undefined, undefined];
    if (!session || !user || sessionRefusal(session, partner) || !partner) {
      return html(401, renderSignedOutPage(), `default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; ${frameAncestors([])}`);
    }
    const path = event.path.slice(settings.workspaceBasePath.length) || "/";
    return html(200, renderWorkspacePage({ user, session, partner, path, workspaceBasePath: settings.workspaceBasePath, now: deps.clock() }), workspacePageCsp(partner.allowedOrigins));
  });
}

export const handler = createWorkspaceHandler(awsRuntime);
