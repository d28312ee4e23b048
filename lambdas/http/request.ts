/** Reading API Gateway proxy events: headers, bodies, path parameters. Every bad input is a 4xx. */
import type { APIGatewayProxyEvent } from "aws-lambda";
import { EmbedError } from "../core/errors.ts";

export type HttpEvent = APIGatewayProxyEvent;

/** Request bodies above this are refused before parsing: a token is at most 8 KB, the rest is small. */
export const MAX_BODY_BYTES = 16 * 1024;

export function header(event: HttpEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  // Fast path: Node and HTTP/2 clients send lower-case names; API Gateway keeps the case the client sent.
  const exact = event.headers?.[wanted];
  if (exact !== undefined && exact !== null) return exact;
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

export function pathParameter(event: HttpEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value) throw new EmbedError("NOT_FOUND", `missing path parameter ${name}`);
  return value;
}

export function queryParameter(event: HttpEvent, name: string): string | undefined {
  return event.queryStringParameters?.[name] ?? undefined;
}

function rawBody(event: HttpEvent): string {
  const body = event.body ?? "";
  if (!event.isBase64Encoded) {
    if (Buffer.byteLength(body, "utf8") > MAX_BODY_BYTES) {
      throw new EmbedError("PAYLOAD_TOO_LARGE", `request body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    return body;
  }
  const bytes = Buffer.from(body, "base64");
  if (bytes.byteLength > MAX_BODY_BYTES) {
    throw new EmbedError("PAYLOAD_TOO_LARGE", `request body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  return bytes.toString("utf8");
}

function mediaType(event: HttpEvent): string {
  return (header(event, "content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/**
 * A JSON object body. Requiring `application/json` also means a plain HTML
 * form on another site cannot post here without a CORS preflight.
 */
export function jsonBody(event: HttpEvent): Record<string, unknown> {
  const text = rawBody(event);
  if (mediaType(event) !== "application/json") {
    throw new EmbedError("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EmbedError("BAD_REQUEST", "body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new EmbedError("BAD_REQUEST", "body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** An `application/x-www-form-urlencoded` body (the redirect integration's form post). */
export function formBody(event: HttpEvent): URLSearchParams {
  const text = rawBody(event);
  if (mediaType(event) !== "application/x-www-form-urlencoded") {
    throw new EmbedError("UNSUPPORTED_MEDIA_TYPE", "send the form as application/x-www-form-urlencoded");
  }
  return new URLSearchParams(text);
}

/** An optional string field of a JSON body. */
export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new EmbedError("BAD_REQUEST", `${field} must be a string`);
  return value;
}

export function requireMethod(event: HttpEvent, ...allowed: string[]): string {
  const method = event.httpMethod.toUpperCase();
  if (!allowed.includes(method)) throw new EmbedError("METHOD_NOT_ALLOWED", `use ${allowed.join(" or ")}`);
  return method;
}
