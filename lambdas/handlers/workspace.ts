/**
 * The stub workspace. The real Jupid app is a separate product; this stands in
 * for it so that the whole flow can be seen and tested.
 *   GET /embed/{partnerId}/app/*  the framed app shell: public (no user data), framed by the
 *                                 partner's origins; its script authenticates with the frame session
 *   GET /app/*                    top-level, after the redirect entry: rendered from the cookie session
 */
import { PARTNER_ID_PATTERN } from "../../config/schema.ts";
import { frameWorkspacePath } from "../core/paths.ts";
import { sessionRefusal } from "../core/session-validity.ts";
import { findSession, sessionView } from "../core/sessions.ts";
import { readSessionCookie } from "../http/cookies.ts";
import { frameAncestors, workspacePageCsp } from "../http/csp.ts";
import { httpHandler } from "../http/handler.ts";
import { renderSignedOutPage, renderWorkspacePage } from "../http/pages/workspace-page.ts";
import { header, requireMethod } from "../http/request.ts";
import { html } from "../http/responses.ts";
import { awsRuntime, type RuntimeSource } from "./runtime.ts";

const NOBODY_FRAMES = `default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; ${frameAncestors([])}`;

export function createWorkspaceHandler(runtime: RuntimeSource) {
  return httpHandler("workspace", async (event) => {
    requireMethod(event, "GET", "HEAD");
    const { deps, settings } = runtime();
    const now = deps.clock();

    const framedPartnerId = event.pathParameters?.partnerId;
    if (framedPartnerId !== undefined) {
      const partner = PARTNER_ID_PATTERN.test(framedPartnerId) ? await deps.partners.get(framedPartnerId) : undefined;
      if (!partner) return html(404, "<!doctype html><title>Not found</title><p>No such partner.</p>", NOBODY_FRAMES);
      const basePath = `/embed/${partner.id}/app`;
      const path = frameWorkspacePath(partner.id, event.path);
      return html(200, renderWorkspacePage({ partner, path, basePath, now }), workspacePageCsp(partner.allowedOrigins));
    }

    const session = await findSession(deps, settings, readSessionCookie(settings, header(event, "cookie")));
    const [user, partner] = session
      ? await Promise.all([deps.identities.getUser(session.userId), deps.partners.get(session.partnerId)])
      : [undefined, undefined];
    if (!session || !user || !partner || sessionRefusal(session, partner)) return html(401, renderSignedOutPage(), NOBODY_FRAMES);
    const path = event.path.slice(settings.workspaceBasePath.length) || "/";
    const view = sessionView(session, user, partner, settings);
    return html(200, renderWorkspacePage({ partner, path, basePath: settings.workspaceBasePath, view, now }), workspacePageCsp([]));
  });
}

export const handler = createWorkspaceHandler(awsRuntime);
