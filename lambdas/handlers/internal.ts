/**
 * /internal/* — for the Jupid app only (IAM-authorised in AWS, a dev key locally).
 *   POST /internal/sessions/resolve {sessionId}          -> {userId, partnerId, shell, chat, branding, expiresAt}
 *        (top-level cookie session), or {credential, proof, method, url} for a frame session:
 *        the app backend forwards what the browser sent (`Authorization: DPoP <credential>`,
 *        the `DPoP` proof, the method and URL it called) and the proof is checked as at the gateway
 *   POST /internal/usage {userId, metric?, amount?}      -> {metric, used, limit, remaining, paywall}
 *   GET  /internal/entitlements/{userId}?metric=         -> the same, without counting
 * The session id travels in a POST body, never in a URL.
 */
import { entitlement } from "../core/entitlement.ts";
import { EmbedError } from "../core/errors.ts";
import { assertSessionUsable } from "../core/session-validity.ts";
import { authenticateFrameRequest, findSession } from "../core/sessions.ts";
import type { PartnerConfig } from "../../config/schema.ts";
import type { JupidUser, Session } from "../ports/index.ts";
import { httpHandler } from "../http/handler.ts";
import { jsonBody, optionalString, queryParameter, requireMethod, type HttpEvent } from "../http/request.ts";
import { json } from "../http/responses.ts";
import { awsRuntime, isInternalCallerAllowed, type Runtime, type RuntimeSource } from "./runtime.ts";

const MAX_USAGE_AMOUNT = 1_000_000;
const USER_ID = /^usr_[a-f0-9]{32}$/;

export function createInternalHandler(runtime: RuntimeSource) {
  return httpHandler("internal", async (event) => {
    const rt = runtime();
    if (!isInternalCallerAllowed(rt, event)) throw new EmbedError("UNAUTHORIZED", "internal route");
    switch (event.resource) {
      case "/internal/sessions/resolve":
        requireMethod(event, "POST");
        return resolveSession(rt, event);
      case "/internal/usage":
        requireMethod(event, "POST");
        return recordUsage(rt, event);
      case "/internal/entitlements/{userId}":
        requireMethod(event, "GET");
        return readEntitlement(rt, event);
      default:
        throw new EmbedError("NOT_FOUND", "no such internal route");
    }
  });
}

async function resolveSession(rt: Runtime, event: HttpEvent) {
  const body = jsonBody(event);
  const credential = optionalString(body, "credential");
  const sessionId = optionalString(body, "sessionId");
  let session: Session | undefined;
  if (credential !== undefined) {
    const method = optionalString(body, "method");
    const url = optionalString(body, "url");
    if (!method || !url) throw new EmbedError("BAD_REQUEST", "method and url of the browser's request are required with a credential");
    session = await authenticateFrameRequest(rt.deps, rt.settings, {
      authorization: `DPoP ${credential}`,
      proof: optionalString(body, "proof"),
      method,
      url,
    });
  } else {
    if (!sessionId) throw new EmbedError("BAD_REQUEST", "sessionId (cookie session) or credential + proof (frame session) is required");
    session = await findSession(rt.deps, rt.settings, sessionId);
    // A frame session is useless without its key: its bare credential resolves nothing.
    if (session?.jkt) throw new EmbedError("DPOP_PROOF_INVALID", "this is a frame session: send credential, proof, method and url");
  }
  if (!session) throw new EmbedError("SESSION_REQUIRED", "no live session with this id");
  const partner = await rt.deps.partners.get(session.partnerId);
  assertSessionUsable(session, partner);
  return json(200, {
    userId: session.userId,
    partnerId: session.partnerId,
    shell: session.shell,
    chat: session.chat,
    branding: partner.branding,
    expiresAt: new Date(session.expiresAt * 1000).toISOString(),
  });
}

async function userAndPartner(rt: Runtime, userId: unknown): Promise<{ user: JupidUser; partner: PartnerConfig }> {
  if (typeof userId !== "string" || !USER_ID.test(userId)) throw new EmbedError("BAD_REQUEST", "userId is not a Jupid user id");
  const user = await rt.deps.identities.getUser(userId);
  if (!user) throw new EmbedError("NOT_FOUND", "no such user");
  const partner = await rt.deps.partners.get(user.partnerId);
  if (!partner) throw new EmbedError("NOT_FOUND", "the user's partner no longer exists");
  return { user, partner };
}

function checkMetric(partner: PartnerConfig, metric: string | undefined): string {
  const expected = partner.freeLimit.metric;
  if (metric !== undefined && metric !== expected) {
    throw new EmbedError("BAD_REQUEST", `this partner's free limit counts "${expected}", not "${metric}"`);
  }
  return expected;
}

async function recordUsage(rt: Runtime, event: HttpEvent) {
  const body = jsonBody(event);
  const { user, partner } = await userAndPartner(rt, body.userId);
  const metric = checkMetric(partner, optionalString(body, "metric"));
  const amount = body.amount ?? 1;
  if (!Number.isSafeInteger(amount) || (amount as number) < 1 || (amount as number) > MAX_USAGE_AMOUNT) {
    throw new EmbedError("BAD_REQUEST", `amount must be an integer from 1 to ${MAX_USAGE_AMOUNT}`);
  }
  const used = await rt.deps.usage.add(user.userId, metric, amount as number);
  return json(200, entitlement(partner.freeLimit, used));
}

async function readEntitlement(rt: Runtime, event: HttpEvent) {
  const { user, partner } = await userAndPartner(rt, event.pathParameters?.userId);
  const metric = checkMetric(partner, queryParameter(event, "metric"));
  return json(200, entitlement(partner.freeLimit, await rt.deps.usage.get(user.userId, metric)));
}

export const handler = createInternalHandler(awsRuntime);
