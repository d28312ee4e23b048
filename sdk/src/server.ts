/**
 * `@jupid/embed/server`, the partner kit's server side: sign the short-lived
 * token that signs one of your users into Jupid, and verify Jupid's webhooks.
 * Runs on your server (Node >= 20, Deno, Bun, edge runtimes): it needs the
 * partner secret, which must never reach a browser.
 *
 * ```ts
 * import { signEmbedToken } from "@jupid/embed/server";
 *
 * app.get("/api/jupid/embed-token", requireLogin, async (req, res) => {
 *   const token = await signEmbedToken({
 *     partnerId: process.env.JUPID_PARTNER_ID!,
 *     secret: process.env.JUPID_EMBED_SECRET!,
 *     user: { id: req.user.id, email: req.user.email, name: req.user.name },
 *   });
 *   res.set("Cache-Control", "no-store").json({ token });
 * });
 * ```
 *
 * The token is a compact JWS, HS256 over the UTF-8 bytes of the secret, with
 * header `{"alg":"HS256","typ":"JWT"}` and claims `iss` (partner id), `aud`
 * ("jupid-embed"), `sub`, `email?`, `name?`, `payload?`, `iat`, `exp`, `jti`.
 * Mint a fresh token for every sign-in: Jupid accepts each `jti` once.
 *
 * This module has no side effects and no dependencies: it signs with
 * WebCrypto (`crypto.subtle`), which every supported runtime has built in.
 */
export {
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  signWebhook,
  type SignWebhookOptions,
  verifyWebhook,
  type VerifyWebhookOptions,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_SIGNATURE_SCHEME,
  WEBHOOK_TIMESTAMP_HEADER,
  type WebhookErrorCode,
  WebhookVerificationError,
} from "./webhook-signature.ts";

/** The `aud` every Jupid Embed token carries. */
export const EMBED_TOKEN_AUDIENCE = "jupid-embed";
/** Default token lifetime; Jupid refuses tokens living longer than the partner's limit (300 s unless agreed otherwise). */
export const DEFAULT_TTL_SECONDS = 300;
/** No partner may be configured for longer-lived tokens than this. */
export const MAX_TTL_SECONDS = 900;
/** Jupid refuses keys shorter than this many bytes. */
export const MIN_SECRET_BYTES = 32;

const PARTNER_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
const KID = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_SUB_LENGTH = 255;
const MAX_PAYLOAD_BYTES = 4 * 1024;

/** The user of your product who is being signed in. */
export interface EmbedUser {
  /** Your stable, unique id for this user (becomes `sub`). Never reuse it for another person; compared byte-exact. */
  readonly id: string;
  /** Stored as the Jupid account email at the user's first sign-in only. */
  readonly email?: string;
  /** Display name; updated at every sign-in. */
  readonly name?: string;
  /** Extra JSON facts for Jupid (plan, company, ...), at most 4 KB; updated at every sign-in. */
  readonly payload?: Record<string, unknown>;
}

export interface SignEmbedTokenOptions {
  /** Your partner id, as Jupid configured it (e.g. `acme-books`); becomes `iss`. */
  readonly partnerId: string;
  /** The signing secret Jupid handed over, exactly as given (used as UTF-8 bytes). */
  readonly secret: string;
  readonly user: EmbedUser;
  /** Lifetime in seconds (`exp - iat`). @default 300 */
  readonly ttlSeconds?: number;
  /** Key id header; only if Jupid asked you to send one. Without it Jupid tries the current key, then the previous one. */
  readonly kid?: string;
  /** The signing time (epoch milliseconds or a Date); for tests. @default Date.now() */
  readonly now?: number | Date;
  /** The token id. @default a random UUID */
  readonly jti?: string;
}

/** Raised for options Jupid would refuse anyway, so the mistake shows up on your server, not in the frame. */
export class EmbedTokenOptionsError extends TypeError {
  override readonly name = "EmbedTokenOptionsError";
}

const encoder = new TextEncoder();

/** Sign a Jupid Embed token for `user`; see the module documentation for the claims. */
export async function signEmbedToken(options: SignEmbedTokenOptions): Promise<string> {
  const { partnerId, secret, user } = options;
  const ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (typeof partnerId !== "string" || !PARTNER_ID.test(partnerId)) {
    throw new EmbedTokenOptionsError("partnerId must be your Jupid partner id, like acme-books");
  }
  if (typeof secret !== "string" || encoder.encode(secret).byteLength < MIN_SECRET_BYTES) {
    throw new EmbedTokenOptionsError(`secret must be the signing secret Jupid handed over (at least ${MIN_SECRET_BYTES} bytes)`);
  }
  if (typeof user?.id !== "string" || user.id.length === 0 || user.id.length > MAX_SUB_LENGTH) {
    throw new EmbedTokenOptionsError(`user.id must be a non-empty string of at most ${MAX_SUB_LENGTH} characters`);
  }
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) {
    throw new EmbedTokenOptionsError(`ttlSeconds must be an integer from 1 to ${MAX_TTL_SECONDS}`);
  }
  if (options.kid !== undefined && !KID.test(options.kid)) {
    throw new EmbedTokenOptionsError(`kid must match ${KID.source}`);
  }
  if (user.payload !== undefined) {
    if (typeof user.payload !== "object" || user.payload === null || Array.isArray(user.payload)) {
      throw new EmbedTokenOptionsError("user.payload must be a plain JSON object");
    }
    if (encoder.encode(JSON.stringify(user.payload)).byteLength > MAX_PAYLOAD_BYTES) {
      throw new EmbedTokenOptionsError(`user.payload must be at most ${MAX_PAYLOAD_BYTES} bytes of JSON`);
    }
  }

  const nowMs = options.now === undefined ? Date.now() : options.now instanceof Date ? options.now.getTime() : options.now;
  const iat = Math.floor(nowMs / 1000);
  const claims: Record<string, unknown> = {};
  if (user.email !== undefined) claims.email = user.email;
  if (user.name !== undefined) claims.name = user.name;
  if (user.payload !== undefined) claims.payload = user.payload;

  const header = { alg: "HS256", typ: "JWT", ...(options.kid === undefined ? {} : { kid: options.kid }) };
  const body = {
    iss: partnerId,
    aud: EMBED_TOKEN_AUDIENCE,
    sub: user.id,
    ...claims,
    iat,
    exp: iat + ttl,
    jti: options.jti ?? globalThis.crypto.randomUUID(),
  };
  const signingInput = `${base64url(encoder.encode(JSON.stringify(header)))}.${base64url(encoder.encode(JSON.stringify(body)))}`;
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(signingInput));
  return `${signingInput}.${base64url(new Uint8Array(signature))}`;
}

/** RFC 4648 base64url without padding (btoa exists in every supported runtime; Buffer does not). */
function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
