/**
 * Every failure a caller can cause has one stable code from this union.
 * The HTTP status of each code is decided in one place (lambdas/http/errors.ts);
 * the browser SDK and the operator CLI reuse the same codes.
 */
export const ERROR_CODES = [
  "BAD_REQUEST",
  "TOKEN_MALFORMED",
  "TOKEN_SIGNATURE_INVALID",
  "TOKEN_EXPIRED",
  "TOKEN_NOT_YET_VALID",
  "TOKEN_LIFETIME_TOO_LONG",
  "TOKEN_CLAIM_INVALID",
  "TOKEN_ISSUER_MISMATCH",
  "TOKEN_AUDIENCE_MISMATCH",
  "TOKEN_REPLAYED",
  "SESSION_REQUIRED",
  "DPOP_PROOF_INVALID",
  "DPOP_PROOF_REPLAYED",
  "UNAUTHORIZED",
  "ORIGIN_NOT_ALLOWED",
  "PATH_NOT_ALLOWED",
  "PARTNER_DISABLED",
  "PARTNER_NOT_FOUND",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "OIDC_NOT_CONFIGURED",
  "OIDC_ISSUER_MISMATCH",
  "OIDC_STATE_MISMATCH",
  "OIDC_LOGIN_REFUSED",
  "OIDC_TOKEN_INVALID",
  "OIDC_PROVIDER_UNAVAILABLE",
  /** A store Jupid depends on throttled, failed or timed out; nothing was written. The only 5xx besides a bug. */
  "SERVICE_UNAVAILABLE",
  "INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * A failure with a stable {@link ErrorCode}. Messages are written for the
 * partner engineer reading them and never contain the token, a secret or a
 * session id.
 */
export class EmbedError extends Error {
  override readonly name = "EmbedError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { claim?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isEmbedError(value: unknown): value is EmbedError {
  return value instanceof EmbedError;
}
