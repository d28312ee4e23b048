/**
 * /embed/{partnerId}/session — the frame session (no cookies; see docs/adr/0004-frame-sessions.md).
 *   POST   {token, parentOrigin, initialPath?, shell?, chat?} + `DPoP: <proof>`
 *          -> {session, redirectTo, firstRun, view}: a session bound to the proof's key
 *   GET    `Authorization: DPoP <session>` + `DPoP: <proof>` -> {view}: who is signed in (the workspace's data call)
 *   DELETE the same headers -> 204: sign out
 * Only the frame on the app origin may call it: a browser `Origin` other than the app's is refused.
 */
import type { PartnerConfig } from "../../config/schema.ts";
import { DPOP_HEADER, verifyProof } from "../core/dpop.ts";
import { EmbedError } from "../core/errors.ts";
import { frameWorkspaceUrl } from "../core/paths.ts";
import { assertSessionUsable } from "../core/session-validity.ts";
import { authenticateFrameRequest, requirePartner, type SessionView, sessionView, signIn } from "../core/sessions.ts";
import type { Session } from "../ports/index.ts";
import { httpHandler } from "../http/handler.ts";
import { header, jsonBody, optionalString, pathParameter, requireMethod } from "../http/request.ts";
import { json, noContent } from "../http/responses.ts";
import { awsRuntime, type Runtime, type RuntimeSource } from "./runtime.ts";

export function createSessionHandler(runtime: RuntimeSource) {
  return httpHandler("session", async (event) => {
    const method = requireMethod(event, "POST", "GET", "DELETE");
    const rt = runtime();
    const { deps, settings } = rt;
    // A browser says where a non-GET request comes from; only the frame on our own origin may call here.
    const requestOrigin = header(event, "origin");
    if (method !== "GET" && requestOrigin !== undefined && requestOrigin !== settings.appUrl) {
      throw new EmbedError("ORIGIN_NOT_ALLOWED", "session requests must come from the Jupid frame");
    }
    const partner = await requirePartner(deps, pathParameter(event, "partnerId"));
    const url = settings.appUrl + event.path;

    if (method === "POST") {
      const body = jsonBody(event);
      const token = body.token;
      if (typeof token !== "string" || token.length === 0) throw new EmbedError("BAD_REQUEST", "token is required");
      const parentOrigin = optionalString(body, "parentOrigin");
      if (parentOrigin === undefined) throw new EmbedError("BAD_REQUEST", "parentOrigin is required");
      // Proof of the key first: a request without one changes nothing, not even the token's jti.
      const { jkt } = await verifyProof({ proof: header(event, DPOP_HEADER), method, url, now: deps.clock() });
      const result = await signIn(deps, settings, {
        partner,
        token,
        origin: parentOrigin,
        initialPath: body.initialPath,
        shell: body.shell,
        chat: body.chat,
        jkt,
      });
      return json(200, {
        session: result.sessionId,
        redirectTo: frameWorkspaceUrl(partner.id, result.path),
        firstRun: result.firstRun,
        view: sessionView(result.session, result.user, partner, settings),
      });
    }

    const session = await authenticateFrameRequest(deps, settings, {
      authorization: header(event, "authorization"),
      proof: header(event, DPOP_HEADER),
      method,
      url,
    });
    if (session.partnerId !== partner.id) throw new EmbedError("SESSION_REQUIRED", "this session belongs to another partner");
    // Revoked (the partner's session epoch moved on) or disabled since: the session is over.
    assertSessionUsable(session, partner);
    if (method === "DELETE") {
      await deps.sessions.delete(session.idHash);
      return noContent();
    }
    return json(200, { view: await viewOf(rt, session, partner) });
  });
}

async function viewOf(rt: Runtime, session: Session, partner: PartnerConfig): Promise<SessionView> {
  const user = await rt.deps.identities.getUser(session.userId);
  if (!user) throw new EmbedError("SESSION_REQUIRED", "the session's user no longer exists");
  return sessionView(session, user, partner, rt.settings);
}

export const handler = createSessionHandler(awsRuntime);
