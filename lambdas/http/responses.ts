/** Building API Gateway proxy results, with the headers every response carries. */
import type { APIGatewayProxyResult } from "aws-lambda";

export type HttpResult = APIGatewayProxyResult;
type Headers = Record<string, string>;

const BASE_HEADERS: Headers = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
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

/** 303 See Other: after a POST the browser follows with a GET and never re-posts the token. */
export function seeOther(location: string, headers: Headers = {}): HttpResult {
  return { statusCode: 303, headers: { ...BASE_HEADERS, Location: location, ...headers }, body: "" };
}

export function noContent(headers: Headers = {}): HttpResult {
  return { statusCode: 204, headers: { ...BASE_HEADERS, ...headers }, body: "" };
}
