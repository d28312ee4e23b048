/**
 * The partner-token policy: everything a token must satisfy before Jupid
 * trusts it. Pure: no I/O, no clock of its own; the HMAC is node:crypto's,
 * synchronous, with one cached key object per partner key (ADR 0011).
 *
 * The gateway calls {@link verifyPartnerToken}; the operator CLI's
 * `token doctor` calls the same stages one by one to explain a failure, so
 * the two can never disagree.
 */
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";
import { OIDC_SUBJECT_PREFIX, type PartnerConfig } from "../../config/schema.ts";
import type { PartnerKey } from "../ports/index.ts";
import { EmbedError } from "./errors.ts";
import { DuplicateKeyError, parseJsonStrict } from "./strict-json.ts";

export const TOKEN_AUDIENCE = "jupid-embed";
export const MAX_TOKEN_BYTES = 8 * 1024;
export const CLOCK_TOLERANCE_SECONDS = 30;
export const MIN_SECRET_BYTES = 32;
export const MAX_SUB_LENGTH = 255;
export const MAX_JTI_LENGTH = 128;
export const MAX_NAME_LENGTH = 256;
export const MAX_PAYLOAD_BYTES = 4 * 1024;
const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
// Deliberately simple: one @, no spaces, a dot in the domain (controls are refused separately). A sanity check, not a mailbox check.
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/;
/** Header parameters that would point us at other keys; we never honour them, so we refuse them. */
const FORBIDDEN_HEADER_PARAMS = ["jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256"] as const;

export interface TokenHeader {
  readonly alg: "HS256";
  readonly typ: "JWT";
  readonly kid?: string;
}

export interface ParsedToken {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
}

/** What a verified token tells us about the partner's user. */
export interface VerifiedClaims {
  readonly partnerId: string;
  readonly sub: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
  readonly email?: string;
  readonly name?: string;
  readonly payload?: Record<string, unknown>;
  /** The kid of the key that verified the signature. */
  readonly kid: string;
}

const malformed = (message: string) => new EmbedError("TOKEN_MALFORMED", message);
const claimInvalid = (claim: string, message: string) =>
  new EmbedError("TOKEN_CLAIM_INVALID", `claim "${claim}" ${message}`, { claim });

/**
 * Stage 1: the compact serialization. At most 8 KB, exactly three canonical
 * base64url segments, UTF-8 JSON objects without duplicate keys.
 */
export function parseCompactToken(token: unknown): ParsedToken {
  if (typeof token !== "string" || token.length === 0) throw malformed("token must be a non-empty string");
  if (token.length > MAX_TOKEN_BYTES) {
    throw new EmbedError("PAYLOAD_TOO_LARGE", `token is larger than ${MAX_TOKEN_BYTES} bytes`);
  }
  const segments = token.split(".");
  if (segments.length !== 3) {
    throw malformed(`token must be a compact JWS with 3 segments, got ${segments.length}`);
  }
  const [headerSegment, payloadSegment, signatureSegment] = segments as [string, string, string];
  const header = decodeJsonSegment(headerSegment, "header");
  const payload = decodeJsonSegment(payloadSegment, "payload");
  decodeSegment(signatureSegment, "signature");
  return { header, payload };
}

function decodeSegment(segment: string, what: string): Uint8Array {
  if (!BASE64URL.test(segment)) throw malformed(`${what} is not base64url (no padding, no whitespace)`);
  const bytes = Buffer.from(segment, "base64url");
  // Re-encoding catches lengths of 4n+1 and final characters with stray low bits.
  if (bytes.toString("base64url") !== segment) throw malformed(`${what} is not canonical base64url`);
  return bytes;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeJsonSegment(segment: string, what: "header" | "payload"): Record<string, unknown> {
  const bytes = decodeSegment(segment, what);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw malformed(`${what} is not UTF-8`);
  }
  let value: unknown;
  try {
    value = parseJsonStrict(text);
  } catch (error) {
    if (error instanceof DuplicateKeyError) throw malformed(`${what} has a duplicate key "${error.key}"`);
    throw malformed(`${what} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformed(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Stage 2: the protected header. */
export function checkHeader(header: Record<string, unknown>): TokenHeader {
  if (header.alg !== "HS256") throw malformed(`header "alg" must be "HS256", got ${describe(header.alg)}`);
  if (header.typ !== "JWT") throw malformed(`header "typ" must be "JWT", got ${describe(header.typ)}`);
  for (const param of FORBIDDEN_HEADER_PARAMS) {
    if (param in header) throw malformed(`header "${param}" is not allowed: keys come only from Jupid`);
  }
  if ("crit" in header) throw malformed(`header "crit" names extensions this gateway does not understand`);
  if ("b64" in header) throw malformed(`header "b64" is not supported`);
  if (header.kid !== undefined && (typeof header.kid !== "string" || !KID_PATTERN.test(header.kid))) {
    throw malformed(`header "kid" must match ${KID_PATTERN.source}`);
  }
  return { alg: "HS256", typ: "JWT", ...(header.kid === undefined ? {} : { kid: header.kid as string }) };
}

/**
 * The keys to try, in order: with a `kid`, only that key; without, current
 * then previous. Keys too short to be safe and previous keys past their
 * overlap window are never used.
 */
export function candidateKeys(keys: readonly PartnerKey[], kid: string | undefined, nowSeconds: number): PartnerKey[] {
  const usable = keys
    .filter((key) => Buffer.byteLength(key.secret, "utf8") >= MIN_SECRET_BYTES)
    .filter((key) => key.notAfter === undefined || nowSeconds <= key.notAfter)
    .sort((a, b) => (a.stage === b.stage ? 0 : a.stage === "current" ? -1 : 1));
  return kid === undefined ? usable : usable.filter((key) => key.kid === kid);
}

/** HS256 signatures are exactly one SHA-256 output long. */
const HS256_SIGNATURE_BYTES = 32;

/**
 * One HMAC key object per partner key. Keyed by the key object itself: the
 * adapters hand out the same cached objects until a reload, so entries live
 * exactly as long as the keys they belong to, and a rotated-out key's entry
 * is collected with it.
 */
const hmacKeys = new WeakMap<PartnerKey, KeyObject>();

function hmacKey(key: PartnerKey): KeyObject {
  let keyObject = hmacKeys.get(key);
  if (keyObject === undefined) {
    keyObject = createSecretKey(Buffer.from(key.secret, "utf8"));
    hmacKeys.set(key, keyObject);
  }
  return keyObject;
}

/**
 * Stage 3: the HMAC, with the UTF-8 bytes of the partner secret as the key (as
 * PyJWT, jsonwebtoken and jose do). Synchronous node:crypto over the signing
 * input, compared with `timingSafeEqual` on equal-length buffers; a signature
 * of the wrong length matches no key (as in jose). Returns the first of `keys`
 * that matches, in their order.
 */
export function verifySignature(token: string, keys: readonly PartnerKey[]): PartnerKey {
  const dot = token.lastIndexOf(".");
  const signingInput = token.slice(0, dot);
  if (dot <= 0 || signingInput.indexOf(".") <= 0) throw malformed("token could not be verified as a JWS");
  const signature = Buffer.from(token.slice(dot + 1), "base64url");
  if (signature.length === HS256_SIGNATURE_BYTES) {
    for (const key of keys) {
      const mac = createHmac("sha256", hmacKey(key)).update(signingInput).digest();
      if (timingSafeEqual(mac, signature)) return key;
    }
  }
  throw new EmbedError("TOKEN_SIGNATURE_INVALID", "signature does not match any active key of this partner");
}

/** Stage 4: the claims, against the partner the URL names and the time now. */
export function checkClaims(
  payload: Record<string, unknown>,
  partner: Pick<PartnerConfig, "id" | "maxTokenLifetimeSeconds" | "oidc">,
  nowSeconds: number,
): Omit<VerifiedClaims, "kid"> {
  const tolerance = CLOCK_TOLERANCE_SECONDS;

  if (payload.iss !== partner.id) {
    throw new EmbedError("TOKEN_ISSUER_MISMATCH", `"iss" must be the partner id "${partner.id}"`);
  }
  if (payload.aud !== TOKEN_AUDIENCE) {
    throw new EmbedError("TOKEN_AUDIENCE_MISMATCH", `"aud" must be exactly "${TOKEN_AUDIENCE}"`);
  }

  const sub = payload.sub;
  if (typeof sub !== "string" || sub.length === 0) throw claimInvalid("sub", "must be a non-empty string");
  if (sub.length > MAX_SUB_LENGTH) throw claimInvalid("sub", `must be at most ${MAX_SUB_LENGTH} characters`);
  if (CONTROL_CHARS.test(sub)) throw claimInvalid("sub", "must not contain control characters");
  // The namespace of this partner's OIDC logins (ADR 0010): a token may not claim one of those users.
  if (partner.oidc?.subjects === "separate" && sub.startsWith(OIDC_SUBJECT_PREFIX)) {
    throw claimInvalid("sub", `must not start with "${OIDC_SUBJECT_PREFIX}" (reserved for this partner's OpenID Connect logins)`);
  }

  const iat = payload.iat;
  const exp = payload.exp;
  if (!Number.isSafeInteger(iat)) throw claimInvalid("iat", "must be an integer (seconds since the epoch)");
  if (!Number.isSafeInteger(exp)) throw claimInvalid("exp", "must be an integer (seconds since the epoch)");
  const issuedAt = iat as number;
  const expiresAt = exp as number;
  if (expiresAt <= issuedAt) throw claimInvalid("exp", `must be after "iat"`);
  if (expiresAt - issuedAt > partner.maxTokenLifetimeSeconds) {
    throw new EmbedError(
      "TOKEN_LIFETIME_TOO_LONG",
      `"exp" - "iat" is ${expiresAt - issuedAt}s; this partner allows at most ${partner.maxTokenLifetimeSeconds}s`,
    );
  }
  if (nowSeconds > expiresAt + tolerance) throw new EmbedError("TOKEN_EXPIRED", "token has expired");
  if (issuedAt > nowSeconds + tolerance) {
    throw new EmbedError("TOKEN_NOT_YET_VALID", `"iat" is in the future (check the partner server's clock)`);
  }
  if (payload.nbf !== undefined) {
    if (!Number.isSafeInteger(payload.nbf)) throw claimInvalid("nbf", "must be an integer if present");
    if ((payload.nbf as number) > nowSeconds + tolerance) throw new EmbedError("TOKEN_NOT_YET_VALID", `"nbf" is in the future`);
  }

  const jti = payload.jti;
  if (typeof jti !== "string" || jti.length === 0) throw claimInvalid("jti", "must be a non-empty string");
  if (jti.length > MAX_JTI_LENGTH) throw claimInvalid("jti", `must be at most ${MAX_JTI_LENGTH} characters`);
  if (CONTROL_CHARS.test(jti)) throw claimInvalid("jti", "must not contain control characters");

  const claims: { -readonly [K in keyof Omit<VerifiedClaims, "kid">]: Omit<VerifiedClaims, "kid">[K] } = {
    partnerId: partner.id,
    sub,
    jti,
    iat: issuedAt,
    exp: expiresAt,
  };
  if (payload.email !== undefined) {
    const email = payload.email;
    if (typeof email !== "string" || email.length > 254 || !EMAIL.test(email) || CONTROL_CHARS.test(email)) {
      throw claimInvalid("email", "must be a valid email address if present");
    }
    claims.email = email;
  }
  if (payload.name !== undefined) {
    if (typeof payload.name !== "string") throw claimInvalid("name", "must be a string if present");
    if (payload.name.length > MAX_NAME_LENGTH) throw claimInvalid("name", `must be at most ${MAX_NAME_LENGTH} characters`);
    claims.name = payload.name;
  }
  if (payload.payload !== undefined) {
    const extra = payload.payload;
    if (typeof extra !== "object" || extra === null || Array.isArray(extra)) {
      throw claimInvalid("payload", "must be a JSON object if present");
    }
    if (Buffer.byteLength(JSON.stringify(extra), "utf8") > MAX_PAYLOAD_BYTES) {
      throw claimInvalid("payload", `must be at most ${MAX_PAYLOAD_BYTES} bytes of JSON`);
    }
    claims.payload = extra as Record<string, unknown>;
  }
  return claims;
}

/**
 * The whole policy, in the order that reveals the least to an unauthenticated
 * caller: structure, header, signature, then claims. Replay is checked by the
 * caller afterwards (it needs storage) and only for tokens that pass here.
 */
export async function verifyPartnerToken(
  token: unknown,
  partner: Pick<PartnerConfig, "id" | "maxTokenLifetimeSeconds" | "oidc">,
  keys: readonly PartnerKey[],
  nowMs: number,
): Promise<VerifiedClaims> {
  const { header, payload } = parseCompactToken(token);
  const { kid } = checkHeader(header);
  const nowSeconds = Math.floor(nowMs / 1000);
  const candidates = candidateKeys(keys, kid, nowSeconds);
  if (candidates.length === 0) {
    throw new EmbedError(
      "TOKEN_SIGNATURE_INVALID",
      kid === undefined ? "this partner has no active signing key" : `no active key with kid "${kid}"`,
    );
  }
  const key = verifySignature(token as string, candidates);
  return { ...checkClaims(payload, partner, nowSeconds), kid: key.kid };
}

/** How long a jti must be remembered: until the token could no longer pass the expiry check. */
export function replayWindowEnd(claims: Pick<VerifiedClaims, "exp">): number {
  return claims.exp + CLOCK_TOLERANCE_SECONDS;
}

function describe(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value).slice(0, 40);
}
