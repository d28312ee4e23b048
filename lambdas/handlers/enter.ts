/**
 * /partner/{partnerId}/enter — the redirect integration (no iframe).
 *   POST form {token, path}     -> 303 to the workspace with the session cookie
 *   GET  (no token)             -> a tiny page that reads #token=…&path=… and posts it
 *   GET  ?token=…&path=…        -> accepted for partners who cannot post, but answered
 *                                  with a 303 to a URL without the token
 * Every answer is no-store and no-referrer, so the token leaks into neither caches nor Referer.
 */
import type { PartnerConfig } from "../../config/schema.ts";
import { EmbedError } from "../core/errors.ts";
import { requirePartner, signIn } from "../core/sessions.ts";
import { sessionCookie } from "../http/cookies.ts";
import { enterPageCsp } from "../http/csp.ts";
import { httpHandler } from "../http/handler.ts";
import { renderEnterPage } from "../http/pages/enter-page.ts";
import { formBody, header, pathParameter, queryParameter, requireMethod } from "../http/request.ts";
import { html, seeOther } from "../http/responses.ts";
import { awsRuntime, type Runtime, type RuntimeSource } from "./runtime.ts";

export function createEnterHandler(runtime: RuntimeSource) {
  return httpHandler(
    "enter",
    async (event) => {
      const method = requireMethod(event, "GET", "POST");
      const rt = runtime();
      const partner = await requirePartner(rt.deps, pathParameter(event, "partnerId"));

      if (method === "GET") {
        const token = queryParameter(event, "token");
        if (token === undefined) return html(200, renderEnterPage(partner), enterPageCsp());
        return enter(rt, partner, token, queryParameter(event, "path"), undefined);
      }

      // Our own entry page posts from the app origin; a partner page may post its own form.
      const origin = header(event, "origin");
      if (origin !== undefined && origin !== rt.settings.appUrl && !partner.allowedOrigins.includes(origin)) {
        throw new EmbedError("ORIGIN_NOT_ALLOWED", "this page's origin is not allowed for the partner");
      }
      const form = formBody(event);
      const token = form.get("token");
      if (!token) throw new EmbedError("BAD_REQUEST", "token is required");
      return enter(rt, partner, token, form.get("path") ?? undefined, origin === rt.settings.appUrl ? undefined : origin);
    },
    { htmlErrors: true },
  );
}

async function enter(rt: Runtime, partner: PartnerConfig, token: string, path: string | undefined, origin: string | undefined) {
  const result = await signIn(rt.deps, rt.settings, { partner, token, origin, initialPath: path });
  return seeOther(result.redirectTo, {
    "Set-Cookie": sessionCookie(rt.settings, result.sessionId, rt.settings.sessionLifetimeSeconds),
  });
}

export const handler = createEnterHandler(awsRuntime);
