/**
 * The signature of a Jupid webhook, in one place: what Jupid's sender writes
 * and what the partner kit's {@link verifyWebhook} checks.
 *
 * ```
 * Jupid-Timestamp: 1767225600                      (integer seconds since the epoch)
 * Jupid-Signature: v1=<64 hex chars>[, v1=<hex>]   (HMAC-SHA256, key = UTF-8 bytes of the webhook secret,
 *                                                    over `${timestamp}.${raw body}`)
 * ```
 *
 * Several `v1=` entries may appear while Jupid rotates a webhook secret: a
 * request is authentic when any of them verifies. Unknown schemes (`v2=...`)
 * are ignored, so a later scheme can be added without breaking verifiers.
 * Only WebCrypto is used (Node >= 20, Deno, Bun, edge runtimes, browsers):
 * `crypto.subtle.verify` compares the MAC in constant time.
 */

/** Header carrying the signing time (integer seconds). Lower-case, as Node and `Headers` report names. */
export const WEBHOOK_TIMESTAMP_HEADER = "jupid-timestamp";
/** Header carrying one or more `v1=<hex>` signatures, comma-separated. */
export const WEBHOOK_SIGNATURE_HEADER = "jupid-signature";
/** The signature scheme this module writes and reads. */
export const WEBHOOK_SIGNATURE_SCHEME = "v1";
/** How far (seconds, either way) the timestamp may be from the verifier's clock. @see verifyWebhook */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;

/** Why a webhook was refused; stable, for your logs and metrics. */
export type WebhookErrorCode =
  | "WEBHOOK_SECRET_MISSING"
  | "WEBHOOK_HEADER_MISSING"
  | "WEBHOOK_TIMESTAMP_INVALID"
  | "WEBHOOK_SIGNATURE_INVALID"
  | "WEBHOOK_TIMESTAMP_OUT_OF_RANGE"
  | "WEBHOOK_PAYLOAD_INVALID";

/** Raised by {@link verifyWebhook}; answer the request with 400 and do not act on it. */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
  constructor(
    readonly code: WebhookErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface SignWebhookOptions {
  readonly secret: string;
  /** The exact body that will be sent. */
  readonly body: string | Uint8Array;
  /** Signing time in seconds. @default now */
  readonly timestamp?: number;
}

export interface VerifyWebhookOptions {
  /** Your webhook secret (or several while you roll it), exactly as Jupid handed it over. */
  readonly secret: string | readonly string[];
  /** The raw request body, byte for byte as received: not re-serialised JSON. */
  readonly body: string | Uint8Array;
  /** The `Jupid-Signature` header value. */
  readonly signatureHeader: string | null | undefined;
  /** The `Jupid-Timestamp` header value. */
  readonly timestampHeader: string | null | undefined;
  /** Replay window: the timestamp may be this far (seconds) from now, either way. @default 300 */
  readonly toleranceSeconds?: number;
  /** The verifier's clock (epoch milliseconds or a Date); for tests. @default Date.now() */
  readonly now?: number | Date;
}

const encoder = new TextEncoder();
const TIMESTAMP = /^\d{1,12}$/;
const HEX_SIGNATURE = /^[0-9a-f]{64}$/;

/** The bytes the MAC covers: `${timestamp}.` followed by the raw body. */
export function webhookSignedContent(timestamp: number, body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`${timestamp}.`);
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const content = new Uint8Array(prefix.length + bytes.length);
  content.set(prefix);
  content.set(bytes, prefix.length);
  return content;
}

const hmacKey = (secret: string, usage: "sign" | "verify") =>
  crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);

/**
 * The two headers for `body`, as Jupid sends them. Use it to test your
 * endpoint: `fetch(url, {method: "POST", body, headers: await signWebhook({secret, body})})`.
 */
export async function signWebhook(options: SignWebhookOptions): Promise<Record<string, string>> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(options.secret, "sign"), webhookSignedContent(timestamp, options.body));
  const hex = Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
  return {
    [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
    [WEBHOOK_SIGNATURE_HEADER]: `${WEBHOOK_SIGNATURE_SCHEME}=${hex}`,
  };
}

/**
 * Check that a webhook request comes from Jupid and is recent, then return
 * its parsed JSON body. Throws {@link WebhookVerificationError} otherwise.
 *
 * Authentic requests are still at-least-once: deduplicate on the event's
 * `id` for as long as the tolerance window.
 */
export async function verifyWebhook<T = unknown>(options: VerifyWebhookOptions): Promise<T> {
  const secrets = (typeof options.secret === "string" ? [options.secret] : [...options.secret]).filter(
    (s) => typeof s === "string" && s.length > 0,
  );
  if (secrets.length === 0) throw new WebhookVerificationError("WEBHOOK_SECRET_MISSING", "no webhook secret configured");
  const { signatureHeader, timestampHeader } = options;
  if (!signatureHeader || !timestampHeader) {
    throw new WebhookVerificationError("WEBHOOK_HEADER_MISSING", `${WEBHOOK_SIGNATURE_HEADER} and ${WEBHOOK_TIMESTAMP_HEADER} headers are required`);
  }
  if (!TIMESTAMP.test(timestampHeader.trim())) {
    throw new WebhookVerificationError("WEBHOOK_TIMESTAMP_INVALID", `${WEBHOOK_TIMESTAMP_HEADER} must be integer seconds`);
  }
  const timestamp = Number(timestampHeader.trim());
  const signatures = signatureHeader
    .split(",")
    .map((part) => part.trim().split("="))
    .filter(([scheme, value]) => scheme === WEBHOOK_SIGNATURE_SCHEME && value !== undefined && HEX_SIGNATURE.test(value))
    .map(([, value]) => Uint8Array.from((value as string).match(/../g) as string[], (h) => Number.parseInt(h, 16)));
  const content = webhookSignedContent(timestamp, options.body);
  let authentic = false;
  for (const secret of secrets) {
    const key = await hmacKey(secret, "verify");
    for (const signature of signatures) {
      // WebCrypto compares the MAC in constant time.
      if (await crypto.subtle.verify("HMAC", key, signature, content)) authentic = true;
    }
  }
  if (!authentic) throw new WebhookVerificationError("WEBHOOK_SIGNATURE_INVALID", "no signature matches the body and timestamp");

  const tolerance = options.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  const nowMs = options.now === undefined ? Date.now() : options.now instanceof Date ? options.now.getTime() : options.now;
  if (Math.abs(Math.floor(nowMs / 1000) - timestamp) > tolerance) {
    throw new WebhookVerificationError(
      "WEBHOOK_TIMESTAMP_OUT_OF_RANGE",
      `signed at ${timestamp}, more than ${tolerance} s from now: a replay or a wrong clock`,
    );
  }
  try {
    return JSON.parse(typeof options.body === "string" ? options.body : new TextDecoder().decode(options.body)) as T;
  } catch {
    throw new WebhookVerificationError("WEBHOOK_PAYLOAD_INVALID", "the body is not JSON");
  }
}
