/** Error codes -> HTTP, in one place. Anything unexpected becomes a bare 500. */
import { EmbedError, type ErrorCode } from "../core/errors.ts";

export const STATUS_OF: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  TOKEN_MALFORMED: 400,
  TOKEN_SIGNATURE_INVALID: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_NOT_YET_VALID: 401,
  TOKEN_LIFETIME_TOO_LONG: 401,
  TOKEN_CLAIM_INVALID: 401,
  TOKEN_ISSUER_MISMATCH: 401,
  TOKEN_AUDIENCE_MISMATCH: 401,
  TOKEN_REPLAYED: 401,
  SESSION_REQUIRED: 401,
  DPOP_PROOF_INVALID: 401,
  DPOP_PROOF_REPLAYED: 401,
  UNAUTHORIZED: 401,
  ORIGIN_NOT_ALLOWED: 403,
  PATH_NOT_ALLOWED: 403,
  PARTNER_DISABLED: 403,
  PARTNER_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  OIDC_NOT_CONFIGURED: 404,
  OIDC_ISSUER_MISMATCH: 400,
  OIDC_STATE_MISMATCH: 400,
  OIDC_LOGIN_REFUSED: 403,
  OIDC_TOKEN_INVALID: 401,
  // The one server-side code besides INTERNAL: the partner's provider failed, not the caller.
  OIDC_PROVIDER_UNAVAILABLE: 502,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** Seconds a client should wait before retrying a SERVICE_UNAVAILABLE answer. */
export const RETRY_AFTER_SECONDS = 1;

export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly claim?: string };
}

/** The status, JSON body and extra headers (Retry-After for a 503) for any thrown value. */
export function describeError(error: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof EmbedError) {
    const body: ErrorBody = {
      error: { code: error.code, message: error.message, ...(error.details.claim ? { claim: error.details.claim } : {}) },
    };
    const headers: Record<string, string> = error.code === "SERVICE_UNAVAILABLE" ? { "Retry-After": String(RETRY_AFTER_SECONDS) } : {};
    return { status: STATUS_OF[error.code], body, headers };
  }
  return { status: 500, body: { error: { code: "INTERNAL", message: "internal error" } }, headers: {} };
}
