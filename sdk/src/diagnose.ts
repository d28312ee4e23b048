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

/** What is wrong according to `answer`, or undefined when `pageOrigin` may embed `partnerId` (also for `jupid-embed doctor origin`). */
export function explain(answer: Embeddability, appOrigin: string, partnerId: string, pageOrigin: string): Diagnosis | undefined {
  const where = ` in ${answer.environment} (${appOrigin})`;
  if (answer.partner === "unknown") return { code: "PARTNER_NOT_FOUND", message: `there is no partner ${partnerId}${where}` };
  if (answer.partner === "disabled") return { code: "PARTNER_DISABLED", message: `partner ${partnerId} is disabled${where}` };
  if (answer.origin !== "allowed") {
    return { code: "ORIGIN_NOT_ALLOWED", message: `${pageOrigin} is not in the allowed origins of partner ${partnerId}${where}` };
  }
  return undefined;
}

/**
 * Ask `appOrigin` whether `partnerId` may be framed by `pageOrigin`.
 * `PARTNER_NOT_FOUND`, `PARTNER_DISABLED`, `ORIGIN_NOT_ALLOWED` when the
 * gateway says so; `NETWORK_ERROR` when the app cannot be reached at all;
 * `HANDSHAKE_TIMEOUT` when it answers but finds nothing wrong (or nothing usable).
 */
export async function diagnose(appOrigin: string, partnerId: string, pageOrigin: string): Promise<Diagnosis> {
  let answer: Embeddability;
  try {
    const response = await fetch(`${appOrigin}/embed/${encodeURIComponent(partnerId)}/embeddable?origin=${encodeURIComponent(pageOrigin)}`, {
      credentials: "omit",
    });
    answer = await response.json();
  } catch {
    return { code: "NETWORK_ERROR", message: `the Jupid app at ${appOrigin} cannot be reached` };
  }
  return (
    (answer.partner && explain(answer, appOrigin, partnerId, pageOrigin)) || {
      code: "HANDSHAKE_TIMEOUT",
      message: `the Jupid frame at ${appOrigin} did not answer, though ${pageOrigin} may embed partner ${partnerId}`,
    }
  );
}
