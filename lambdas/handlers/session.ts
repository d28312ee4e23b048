/**
 * /embed/{partnerId}/session
 *   POST   {token, parentOrigin, initialPath?, shell?, chat?} -> {redirectTo, firstRun, expiresAt} + cookie
 *   GET    ?initialPath=  -> the same answer for a live cookie session of this partner (the frame skips the token)
 *   DELETE -> sign out: the session is deleted and the cookie cleared
 */
import { EmbedError } from "../core/errors.ts";
import { resolveInitialPath, workspaceUrl } from "../core/paths.ts";
import { findSession, hashSessionId, requirePartner, signIn } from "../core/sessions.ts";
import { clearedSessionCookie, readSessionCookie, sessionCookie } from "../http/cookies.ts";
import { httpHandler } from "../http/handler.ts";
import { header, jsonBody, optionalString, pathParameter, queryParameter, requireMethod } from "../http/request.ts";
import { json, noContent } from "../http/responses.ts";
import { awsRuntime, type RuntimeSource } from "./runtime.ts";

export function createSessionHandler(runtime: RuntimeSource) {
  return httpHandler("session", async (event) => {
    const method = requireMethod(event, "POST", "GET", "DELETE");
    const { deps, settings } = runtime();
    const partnerId = pathParameter(event, "partnerId");
    const cookie = readSessionCookie(settings, header(event, "cookie"));

    if (method === "POST") {
      const partner = await requirePartner(deps, partnerId);
      // A browser always says where a POST comes from; only the frame on our own origin may post here.
      const requestOrigin = header(event, "origin");
      if (requestOrigin !== undefined && requestOrigin !== settings.appUrl) {
        throw new EmbedError("ORIGIN_NOT_ALLOWED", "sign-in requests must come from the Jupid frame");
      }
      const body = jsonBody(event);
      const token = body.token;
      if (typeof token !== "string" || token.length === 0) throw new EmbedError("BAD_REQUEST", "token is required");
      const parentOrigin = optionalString(body, "parentOrigin");
      if (parentOrigin === undefined) throw new EmbedError("BAD_REQUEST", "parentOrigin is required");
      const result = await signIn(deps, settings, {
        partner,
        token,
        origin: parentOrigin,
        initialPath: body.initialPath,
        shell: body.shell,
        chat: body.chat,
      });
      return json(
        200,
        { redirectTo: result.redirectTo, firstRun: result.firstRun, expiresAt: new Date(result.session.expiresAt * 1000).toISOString() },
        { "Set-Cookie": sessionCookie(settings, result.sessionId, settings.sessionLifetimeSeconds) },
      );
    }

    if (method === "GET") {
      const partner = await requirePartner(deps, partnerId);
      const session = await findSession(deps, cookie);
      if (!session || session.partnerId !== partner.id) {
        throw new EmbedError("SESSION_REQUIRED", "no live session for this partner");
      }
      const path = resolveInitialPath(queryParameter(event, "initialPath"), partner);
      return json(200, {
        redirectTo: workspaceUrl(settings.workspaceBasePath, path),
        firstRun: false,
        expiresAt: new Date(session.expiresAt * 1000).toISOString(),
      });
    }

    // DELETE: signing out is idempotent and needs no live session.
    if (cookie) await deps.sessions.delete(hashSessionId(cookie));
    return noContent({ "Set-Cookie": clearedSessionCookie(settings) });
  });
}

export const handler = createSessionHandler(awsRuntime);
