/**
 * /partner/{partnerId}/enter — the redirect integration (no iframe).
 *   POST form {token, path}     -> 303 to the workspace with the session cookie
 *   GET  (no token)             -> a tiny page that reads #token=…&path=… and posts it
 *   GET  ?token=…&path=…        -> accepted for partners who cannot post, but answered
 *                                  with a 303 to a URL without the token
 * A sign-in that cannot be shown to have started on one of the partner's
 * origins, or that would replace another user's live session, answers with a
 * confirmation page instead (lambdas/core/redirect-entry.ts decides); its
 * "Continue" posts the token again, from our origin, with `confirm=1`.
 * Every answer is no-store and no-referrer, so the token leaks into neither caches nor Referer.
 */
import type { PartnerRecord } from "../ports/index.ts";
import { EmbedError } from "../core/errors.ts";
import { decideEntry, originOf } from "../core/redirect-entry.ts";
import { hashSessionId, requirePartner, signIn } from "../core/sessions.ts";
import { readSessionCookie, sessionCookie } from "../http/cookies.ts";
import { enterConfirmPageCsp, enterPageCsp } from "../http/csp.ts";
import { httpHandler } from "../http/handler.ts";
import { renderEnterConfirmPage, renderEnterPage } from "../http/pages/enter-page.ts";
import { formBody, header, pathParameter, queryParameter, requireMethod, type HttpEvent } from "../http/request.ts";
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
        // A navigation carries no Origin; the Referer's origin (kept by strict-origin-when-cross-origin) says where it started.
        return enter(rt, event, partner, { token, path: queryParameter(event, "path"), startedFrom: originOf(header(event, "referer")), confirmed: false });
      }

      const origin = header(event, "origin");
      const fromOurPage = origin === rt.settings.appUrl;
      // `Origin: null` (sandboxed or no-referrer pages) proves nothing: such a sign-in is confirmed by the user.
      if (origin !== undefined && origin !== "null" && !fromOurPage && !partner.allowedOrigins.includes(origin)) {
        throw new EmbedError("ORIGIN_NOT_ALLOWED", "this page's origin is not allowed for the partner");
      }
      const form = formBody(event);
      const token = form.get("token");
      if (!token) throw new EmbedError("BAD_REQUEST", "token is required");
      return enter(rt, event, partner, {
        token,
        path: form.get("path") ?? undefined,
        // Our entry page reports document.referrer's origin; only our own pages can post with our Origin.
        startedFrom: fromOurPage ? (form.get("from") ?? undefined) : origin === "null" ? undefined : origin,
        // Only our confirmation page posts `confirm`, and nothing else can post with our Origin.
        confirmed: fromOurPage && form.get("confirm") === "1",
      });
    },
    { htmlErrors: true },
  );
}

interface EntryInput {
  readonly token: string;
  readonly path: string | undefined;
  readonly startedFrom: string | undefined;
  readonly confirmed: boolean;
}

async function enter(rt: Runtime, event: HttpEvent, partner: PartnerRecord, input: EntryInput) {
  const currentSessionId = readSessionCookie(rt.settings, header(event, "cookie"));
  const decision = await decideEntry(rt.deps, rt.settings, { partner, token: input.token, initialPath: input.path, startedFrom: input.startedFrom, confirmed: input.confirmed, currentSessionId });
  if (decision.kind === "confirm") {
    return html(200, renderEnterConfirmPage({ partner, decision, token: input.token, path: input.path }), enterConfirmPageCsp());
  }
  const result = await signIn(rt.deps, rt.settings, { partner, token: input.token, initialPath: input.path });
  // The session this browser had is replaced, so it ends here too (not only in the cookie jar).
  if (currentSessionId && /^[A-Za-z0-9_-]{43}$/.test(currentSessionId)) await rt.deps.sessions.delete(hashSessionId(currentSessionId));
  return seeOther(result.redirectTo, {
    "Set-Cookie": sessionCookie(rt.settings, result.sessionId, rt.settings.sessionLifetimeSeconds),
  });
}

export const handler = createEnterHandler(awsRuntime);
