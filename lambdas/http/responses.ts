/** Building API Gateway proxy results, with the headers every response carries. */
import type { APIGatewayProxyResult } from "aws-lambda";
import { EmbedError } from "../core/errors.ts";
import { isAppRelative } from "../core/paths.ts";

export type HttpResult = APIGatewayProxyResult;
type Headers = Record<string, string>;

/** Two years; the same value at the edge (lib/constructs/cdn.ts). */
export const HSTS_MAX_AGE_SECONDS = 63_072_000;
/**
 * Sent on every answer, by the Lambdas and by CloudFront: browsers ignore it
 * on plain http (RFC 6797 §8.1), so it is in effect on every https answer.
 */
export const STRICT_TRANSPORT_SECURITY = `max-age=${HSTS_MAX_AGE_SECONDS}; includeSubDomains`;
/**
 * Powerful features the gateway's pages and the workspace never use, denied
 * to them and to anything they could frame. Also sent by CloudFront.
 */
export const PERMISSIONS_POLICY = [
  "accelerometer",
  "autoplay",
  "bluetooth",
  "camera",
  "display-capture",
  "geolocation",
  "gyroscope",
  "hid",
  "magnetometer",
  "microphone",
  "midi",
  "payment",
  "publickey-credentials-get",
  "screen-wake-lock",
  "serial",
  "usb",
  "xr-spatial-tracking",
]
  .map((feature) => `${feature}=()`)
  .join(", ");

const BASE_HEADERS: Headers = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Strict-Transport-Security": STRICT_TRANSPORT_SECURITY,
  "Permissions-Policy": PERMISSIONS_POLICY,
};
// Pages are framed by partner sites (which may send COEP: require-corp); their
// framing is governed by CSP frame-ancestors, so only API answers are same-origin.
const API_HEADERS: Headers = { "Cross-Origin-Resource-Policy": "same-origin" };

export function json(status: number, body: unknown, headers: Headers = {}): HttpResult {
  return {
    statusCode: status,
    headers: { ...BASE_HEADERS, ...API_HEADERS, "Content-Type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

export function html(status: number, body: string, csp: string, headers: Headers = {}): HttpResult {
  return {
    statusCode: status,
    headers: { ...BASE_HEADERS, "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp, ...headers },
    body,
  };
}

/**
 * 303 See Other: after a POST the browser follows with a GET and never re-posts the token.
 * `location` must be an app-relative path ({@link isAppRelative}); anything else is refused, so no
 * caller of this function can send a browser off the app origin.
 */
export function seeOther(location: string, headers: Headers = {}): HttpResult {
  if (!isAppRelative(location)) throw new EmbedError("PATH_NOT_ALLOWED", "the redirect would leave the Jupid app");
  return { statusCode: 303, headers: { ...BASE_HEADERS, ...headers, Location: location }, body: "" };
}

/**
 * 303 to the partner's OpenID provider: the one redirect that leaves the app, to a URL
 * built from the provider's verified metadata (never from request input).
 */
export function seeOtherProvider(url: URL, headers: Headers = {}): HttpResult {
  return { statusCode: 303, headers: { ...BASE_HEADERS, ...headers, Location: url.href }, body: "" };
}

export function noContent(headers: Headers = {}): HttpResult {
  return { statusCode: 204, headers: { ...BASE_HEADERS, ...headers }, body: "" };
}
