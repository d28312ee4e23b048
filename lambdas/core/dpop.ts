/**
 * DPoP (RFC 9449) proofs for frame sessions.
 *
 * The frame keeps its session credential in its own (partitioned) storage,
 * where JavaScript can read it, so the credential alone must be useless: every
 * request that uses it carries a fresh proof, a JWT signed by a
 * non-extractable P-256 key that never leaves the frame. Sign-in binds the
 * session to that key's JWK thumbprint (`jkt`); every later use must be
 * signed by the same key, for this method and URL, now, once, and for this
 * credential (`ath`). See docs/adr/0004-frame-sessions.md.
 *
 * Verification uses jose; this module only adds the RFC's rules on top.
 */
import { createHash } from "node:crypto";
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, errors, type JWK, jwtVerify } from "jose";
import { DPOP_SCHEME } from "../../sdk/src/protocol.ts";
import { EmbedError } from "./errors.ts";

/** A proof is accepted this long after its `iat` (the frame corrects its clock by the server's). */
export const PROOF_MAX_AGE_SECONDS = 120;
/** …and this far in the future (clock drift within one page view). */
export const PROOF_MAX_SKEW_SECONDS = 30;
/** Header carrying the proof (the credential comes as `Authorization: DPoP <credential>`, see DPOP_SCHEME). */
export const DPOP_HEADER = "dpop";
const MAX_PROOF_LENGTH = 2048;
const JTI = /^[A-Za-z0-9_-]{16,64}$/;

export interface ProofRequest {
  /** The proof as sent (the `DPoP` header). */
  readonly proof: unknown;
  /** HTTP method of the request the proof is for. */
  readonly method: string;
  /** Absolute URL of the request, without query and fragment. */
  readonly url: string;
  /** Epoch milliseconds. */
  readonly now: number;
  /** The credential the request carries; its hash must be the proof's `ath`. Absent at sign-in. */
  readonly credential?: string;
}

export interface VerifiedProof {
  /** RFC 7638 thumbprint of the proof's public key (SHA-256, base64url). */
  readonly jkt: string;
  readonly jti: string;
  /** Epoch seconds after which this proof can no longer be accepted (remember its jti until then). */
  readonly replayWindowEnd: number;
}

const invalid = (message: string, cause?: unknown) => new EmbedError("DPOP_PROOF_INVALID", message, {}, { cause });

/** `ath`: base64url SHA-256 of the credential (RFC 9449 §4.2). */
export function credentialHash(credential: string): string {
  return createHash("sha256").update(credential, "ascii").digest("base64url");
}

/** Checks one proof; throws DPOP_PROOF_INVALID with the rule that failed. Does not check replay (see {@link ProofRequest}). */
export async function verifyProof(request: ProofRequest): Promise<VerifiedProof> {
  const { proof } = request;
  if (typeof proof !== "string" || proof.length === 0) throw invalid("a DPoP proof is required (DPoP header)");
  if (proof.length > MAX_PROOF_LENGTH) throw invalid("the DPoP proof is too long");
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch (cause) {
    throw invalid("the DPoP proof is not a JWS", cause);
  }
  const jwk = header.jwk as JWK | undefined;
  if (header.typ !== "dpop+jwt" || header.alg !== "ES256") throw invalid("the DPoP proof must be typ dpop+jwt, alg ES256");
  if (jwk?.kty !== "EC" || jwk.crv !== "P-256" || "d" in jwk) throw invalid("the DPoP proof must carry a public P-256 key");

  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
      typ: "dpop+jwt",
      algorithms: ["ES256"],
      currentDate: new Date(request.now),
    }));
  } catch (cause) {
    const reason = cause instanceof errors.JOSEError ? cause.code : "unreadable";
    throw invalid(`the DPoP proof does not verify (${reason})`, cause);
  }

  const { jti, htm, htu, iat, ath } = payload;
  if (typeof jti !== "string" || !JTI.test(jti)) throw invalid("the DPoP proof needs a unique jti");
  if (htm !== request.method) throw invalid("the DPoP proof is for another method");
  if (typeof htu !== "string" || stripUrl(htu) !== stripUrl(request.url)) throw invalid("the DPoP proof is for another URL");
  const nowSeconds = Math.floor(request.now / 1000);
  if (typeof iat !== "number" || !Number.isFinite(iat)) throw invalid("the DPoP proof needs iat");
  if (iat < nowSeconds - PROOF_MAX_AGE_SECONDS) throw invalid("the DPoP proof is stale");
  if (iat > nowSeconds + PROOF_MAX_SKEW_SECONDS) throw invalid("the DPoP proof is from the future");
  if (request.credential !== undefined) {
    if (ath !== credentialHash(request.credential)) throw invalid("the DPoP proof is not for this credential");
  }
  return {
    jkt: await calculateJwkThumbprint(jwk, "sha256"),
    jti,
    replayWindowEnd: Math.floor(iat) + PROOF_MAX_AGE_SECONDS + PROOF_MAX_SKEW_SECONDS,
  };
}

/** The credential from `Authorization: DPoP <credential>`, or undefined. */
export function dpopCredential(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const [scheme, credential, extra] = authorization.trim().split(" ");
  return scheme === DPOP_SCHEME && extra === undefined && /^[A-Za-z0-9_-]{43}$/.test(credential ?? "") ? credential : undefined;
}

/** Replay-guard namespace of a key's proofs (contains ":", which no partner id does). */
export function proofReplayScope(jkt: string): string {
  return `dpop:${jkt}`;
}

/** `htu` is compared without query and fragment (RFC 9449 §4.3). */
function stripUrl(value: string): string {
  try {
    const url = new URL(value);
    return `${url.origin}${url.pathname}`;
  } catch {
    return `invalid:${value}`;
  }
}
