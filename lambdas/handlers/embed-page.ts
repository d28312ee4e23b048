/**
 * GET /embed/{partnerId} — the iframe bootstrap page. Its CSP allows framing
 * by exactly the partner's origins; an unknown partner gets a 404 that nobody
 * may frame. A disabled partner still gets its page, so that the sign-in
 * attempt can report PARTNER_DISABLED to the partner's code instead of a
 * silent blocked frame.
 */
import { PARTNER_ID_PATTERN } from "../../config/schema.ts";
import { embedPageCsp, frameAncestors } from "../http/csp.ts";
import { httpHandler } from "../http/handler.ts";
import { renderEmbedPage } from "../http/pages/embed-page.ts";
import { requireMethod } from "../http/request.ts";
import { html } from "../http/responses.ts";
import { awsRuntime, type RuntimeSource } from "./runtime.ts";

export function createEmbedPageHandler(runtime: RuntimeSource) {
  return httpHandler("embed-page", async (event) => {
    requireMethod(event, "GET", "HEAD");
    const { deps } = runtime();
    const partnerId = event.pathParameters?.partnerId ?? "";
    const partner = PARTNER_ID_PATTERN.test(partnerId) ? await deps.partners.get(partnerId) : undefined;
    if (!partner) {
      const csp = `default-src 'none'; base-uri 'none'; ${frameAncestors([])}`;
      return html(404, "<!doctype html><title>Not found</title><p>No such partner.</p>", csp);
    }
    return html(200, renderEmbedPage({ partner, now: deps.clock() }), embedPageCsp(partner.allowedOrigins));
  });
}

export const handler = createEmbedPageHandler(awsRuntime);
