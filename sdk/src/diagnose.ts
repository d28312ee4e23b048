/**
 * Why a Jupid frame did not answer, asked of the gateway's public, non-secret
 * `GET {appUrl}/embed/{partnerId}/embeddable?origin=<page origin>` (served by
 * lambdas/handlers/embeddable.ts), and turned into one precise error code.
 * Pure apart from `fetch`; kept tiny because it ships in embed.js.
 */
import type { EmbedErrorCode } from "./protocol.ts";

/** The endpoint's answer (lambdas/core/embeddable.ts computes it). */
export interface Embeddability {
  readonly partner: "known" | "unknown" | "disabled";
  readonly origin: "allowed" | "not-allowed";
  /** The Jupid environment that answered (`production`, `staging`, `local`, ...). */
  readonly environment: string;
}

export interface Diagnosis {
  readonly code: EmbedErrorCode;
  readonly message: string;
}

/**
 * What is wrong according to `answer`, or undefined when `pageOrigin` may
 * embed `partnerId` (also worded so for `jupid-embed doctor origin`). One
 * message template for all three codes keeps embed.js small; it names the
 * partner, the page's origin and the environment, e.g.
 * `partner acme-books is known, origin http://localhost:8000 is not-allowed (Jupid staging, https://app.jupid.com)`.
 */
export function explain(answer: Embeddability, appOrigin: string, partnerId: string, pageOrigin: string): Diagnosis | undefined {
  const code: EmbedErrorCode | "" =
    answer.partner === "unknown"
      ? "PARTNER_NOT_FOUND"
      : answer.partner === "disabled"
        ? "PARTNER_DISABLED"
        : answer.origin === "allowed"
          ? ""
          : "ORIGIN_NOT_ALLOWED";
  return code
    ? { code, message: `partner ${partnerId} is ${answer.partner}, origin ${pageOrigin} is ${answer.origin} (Jupid ${answer.environment}, ${appOrigin})` }
    : undefined;
}

/**
 * Ask `appOrigin` whether `partnerId` may be framed by `pageOrigin`.
 * `PARTNER_NOT_FOUND`, `PARTNER_DISABLED`, `ORIGIN_NOT_ALLOWED` when the
 * gateway says so; `NETWORK_ERROR` when the app cannot be reached at all;
 * `HANDSHAKE_TIMEOUT` when it answers but finds nothing wrong (or nothing usable).
 * No credentials go along: the request is cross-origin, and the answer is public.
 */
export async function diagnose(appOrigin: string, partnerId: string, pageOrigin: string): Promise<Diagnosis> {
  let response: Response;
  try {
    // partnerId is a checked id (mount's PARTNER_ID pattern): only the origin needs encoding.
    response = await fetch(`${appOrigin}/embed/${partnerId}/embeddable?origin=${encodeURIComponent(pageOrigin)}`);
  } catch {
    return { code: "NETWORK_ERROR", message: `${appOrigin} cannot be reached` };
  }
  const answer = await response.json().catch(() => ({}));
  return (answer.partner && explain(answer, appOrigin, partnerId, pageOrigin)) || { code: "HANDSHAKE_TIMEOUT", message: "the Jupid frame did not answer" };
}
