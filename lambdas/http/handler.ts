/**
 * The one middy stack every route uses: errors become responses here and
 * only here, and every request is logged once, without bodies or queries.
 */
import middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { PARTNER_ID_PATTERN } from "../../config/schema.ts";
import { EmbedError, isEmbedError } from "../core/errors.ts";
import { describeError } from "./errors.ts";
import { log } from "./logger.ts";
import { escapeHtml } from "./pages/embed-page.ts";
import { html, json } from "./responses.ts";

export type RouteFn = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
export type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

interface Internal extends Record<string, unknown> {
  startedAt: number;
}

/** How long before the Lambda's own timeout a request still running is answered with SERVICE_UNAVAILABLE. */
export const TIMEOUT_EARLY_MS = 1_000;

export interface HandlerOptions {
  /** Answer errors with a small HTML page when a browser navigates here (the redirect integration). */
  readonly htmlErrors?: boolean;
}

export function httpHandler(route: string, fn: RouteFn, options: HandlerOptions = {}): LambdaHandler {
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context, Internal>({
    // Answer 503 (and log it) while the Lambda still can, instead of being killed at its timeout
    // (a bare 502 from API Gateway) or middy's default abort error (a 500 INTERNAL).
    timeoutEarlyInMillis: TIMEOUT_EARLY_MS,
    timeoutEarlyResponse: () => {
      throw new EmbedError("SERVICE_UNAVAILABLE", "Jupid is briefly unavailable; try again in a moment", {}, { cause: { name: "LambdaDeadline" } });
    },
  })
    .before((request) => {
      request.internal.startedAt = performance.now();
    })
    .after((request) => {
      logRequest(route, request.event, request.response?.statusCode ?? 0, undefined, request.internal.startedAt);
    })
    .onError((request) => {
      const { status, body, headers } = describeError(request.error);
      if (!isEmbedError(request.error)) {
        // The cause goes to the log by name only: messages of SDK errors can quote inputs.
        log("error", "unhandled error", { route, error: request.error?.name ?? "unknown" });
      } else if (request.error.code === "SERVICE_UNAVAILABLE") {
        log("warn", "dependency unavailable", { route, error: causeName(request.error.cause) });
      }
      logRequest(route, request.event, status, body.error.code, request.internal.startedAt);
      const wantsHtml = options.htmlErrors && /text\/html/.test(request.event.headers?.accept ?? request.event.headers?.Accept ?? "");
      const response = wantsHtml ? errorPage(status, body.error.code, body.error.message) : json(status, body);
      request.response = { ...response, headers: { ...response.headers, ...headers } };
    })
    .handler((event) => fn(event));
  return handler as unknown as LambdaHandler;
}

function logRequest(route: string, event: APIGatewayProxyEvent, status: number, code: string | undefined, startedAt: number) {
  log(status >= 500 ? "error" : "info", "request", {
    route,
    method: event.httpMethod,
    // Only a well-formed id: a path segment is caller input and could be anything.
    partnerId: PARTNER_ID_PATTERN.test(event.pathParameters?.partnerId ?? "") ? event.pathParameters?.partnerId : undefined,
    status,
    code,
    ms: Math.round((performance.now() - (startedAt ?? performance.now())) * 100) / 100,
  });
}

function causeName(cause: unknown): string {
  const name = (cause as { name?: unknown } | undefined)?.name;
  return typeof name === "string" ? name : "unknown";
}

function errorPage(status: number, code: string, message: string) {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>Jupid — ${code}</title></head><body><h1>Jupid could not sign you in</h1><p><code id="code">${code}</code></p><p>${escapeHtml(message)}</p><p>Go back to the app you came from and try again.</p></body></html>`;
  return html(status, body, "default-src 'none'; base-uri 'none'; frame-ancestors 'none'");
}
