/**
 * AWS failures that are not the caller's fault and will pass (throttling, an
 * unreachable or failing service, a timeout) become one EmbedError,
 * `SERVICE_UNAVAILABLE` (503 with Retry-After), in this one place: a
 * middleware on the shared SDK clients (./clients.ts), outside the SDK's own
 * retries, so it sees only what is left after them. Anything else (a
 * condition that failed, a missing resource, a corrupt item) passes through
 * unchanged for the adapters to handle, or becomes a generic 500 as a bug.
 * The AWS error's message never travels on: only its name, as the cause.
 */
import type { InitializeMiddleware, Pluggable } from "@smithy/types";
import { EmbedError } from "../../core/errors.ts";

const TRANSIENT_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "RequestThrottled",
  "RequestThrottledException",
  "TransactionInProgressException",
  "InternalServerError",
  "InternalFailure",
  "InternalServiceError",
  "InternalServiceErrorException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "AbortError",
]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "ECONNABORTED", "EHOSTUNREACH", "ENETUNREACH"]);
/** Cancellation reasons of a TransactWriteItems that mean "try later", not "your condition failed". */
const TRANSIENT_CANCELLATIONS = new Set(["ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded", "InternalServerError"]);

/** True when `error` is an AWS (or network) failure that a later retry may not hit. */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const details = error as Error & {
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
    CancellationReasons?: { Code?: string }[];
  };
  if (error.name === "TransactionCanceledException") {
    const codes = (details.CancellationReasons ?? []).map((reason) => reason.Code ?? "None");
    // A failed condition or a conflict is for the adapter to handle; only a cancellation for capacity is transient.
    return codes.some((code) => TRANSIENT_CANCELLATIONS.has(code)) && !codes.some((code) => code === "ConditionalCheckFailed" || code === "TransactionConflict");
  }
  if (TRANSIENT_NAMES.has(error.name)) return true;
  if (details.code !== undefined && NETWORK_CODES.has(details.code)) return true;
  if (details.$retryable !== undefined) return true;
  const status = details.$metadata?.httpStatusCode;
  return status === 429 || (status !== undefined && status >= 500);
}

/** The EmbedError a transient AWS failure becomes; carries the AWS error's name only. */
export function serviceUnavailable(error: unknown): EmbedError {
  const name = error instanceof Error ? error.name : "unknown";
  return new EmbedError("SERVICE_UNAVAILABLE", "Jupid is briefly unavailable; try again in a moment", {}, { cause: { name } });
}

/** The middleware, for `client.middlewareStack.use(classifyFaults())`; outermost, so after the SDK's retries. */
export function classifyFaults<Input extends object, Output extends object>(): Pluggable<Input, Output> {
  const classify: InitializeMiddleware<Input, Output> = (next) => async (args) => {
    try {
      return await next(args);
    } catch (error) {
      throw isTransientAwsError(error) ? serviceUnavailable(error) : error;
    }
  };
  return {
    applyToStack: (stack) => {
      stack.add(classify, { step: "initialize", priority: "high", name: "jupidClassifyFaults" });
    },
  };
}

/**
 * Per-attempt time limits for the SDK clients. Without them a call to a
 * service that accepts the connection and never answers waits for the
 * Lambda timeout (a 5xx from API Gateway with nothing in our log).
 */
// throwOnRequestTimeout: without it the SDK's handler only logs a warning when requestTimeout passes, and keeps waiting.
export const REQUEST_TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true } as const;
