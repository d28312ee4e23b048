/**
 * GET /embed/{partnerId}/embeddable?origin=<origin> — public diagnostics for
 * the SDK (sdk/src/diagnose.ts) and partner engineers: is the partner known,
 * disabled or unknown, and may `origin` frame it? Non-secret and the same for
 * everyone, so any site may read it (CORS `*`, no credentials) and the CDN
 * may cache it for a minute. Every input gets a 200 or a 4xx, never a 5xx.
 * Rate limiting is the WAF's job at the edge (see the README, "Deploying").
 */
import { originProblem, PARTNER_ID_PATTERN } from "../../config/schema.ts";
import { embeddability } from "../core/embeddable.ts";
import { EmbedError } from "../core/errors.ts";
import { httpHandler } from "../http/handler.ts";
import { queryParameter, requireMethod } from "../http/request.ts";
import { json } from "../http/responses.ts";
import { awsRuntime, type RuntimeSource } from "./runtime.ts";

/** How long browsers and the CDN may reuse an answer (a config change shows within this plus cacheSeconds). */
export const EMBEDDABLE_MAX_AGE_SECONDS = 60;
const MAX_ORIGIN_LENGTH = 512;

export function createEmbeddableHandler(runtime: RuntimeSource) {
  return httpHandler("embeddable", async (event) => {
    requireMethod(event, "GET", "HEAD");
    const origin = queryParameter(event, "origin") ?? "";
    if (origin.length === 0 || origin.length > MAX_ORIGIN_LENGTH || originProblem(origin) !== undefined) {
      throw new EmbedError("BAD_REQUEST", "origin must be the exact origin of the page, like https://app.example.com");
    }
    const { deps, settings } = runtime();
    const partnerId = event.pathParameters?.partnerId ?? "";
    const partner = PARTNER_ID_PATTERN.test(partnerId) ? await deps.partners.get(partnerId) : undefined;
    return json(200, embeddability(partner, origin, settings.environment), {
      "Cache-Control": `public, max-age=${EMBEDDABLE_MAX_AGE_SECONDS}`,
      "Access-Control-Allow-Origin": "*",
      "Cross-Origin-Resource-Policy": "cross-origin",
    });
  });
}

export const handler = createEmbeddableHandler(awsRuntime);
