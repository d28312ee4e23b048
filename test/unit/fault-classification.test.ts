/** Which AWS failures become SERVICE_UNAVAILABLE (lambdas/adapters/aws/faults.ts), and the 503's headers. */
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { EmbedError } from "../../lambdas/core/errors.ts";
import { isTransientAwsError, REQUEST_TIMEOUTS, serviceUnavailable } from "../../lambdas/adapters/aws/faults.ts";
import { describeError } from "../../lambdas/http/errors.ts";
import { httpHandler, TIMEOUT_EARLY_MS } from "../../lambdas/http/handler.ts";
import { setLogSink } from "../../lambdas/http/logger.ts";

const named = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${name}: detail`), { name, ...extra });
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({ message: "cancelled", $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

describe("isTransientAwsError", () => {
  it.each([
    named("ThrottlingException"),
    named("ProvisionedThroughputExceededException"),
    named("InternalServerError"),
    named("ServiceUnavailable"),
    named("TimeoutError", { code: "ETIMEDOUT" }),
    named("Error", { code: "ECONNREFUSED" }),
    named("SomethingNew", { $metadata: { httpStatusCode: 503 } }),
    named("SomethingNew", { $metadata: { httpStatusCode: 429 } }),
    cancelled("None", "ThrottlingError"),
  ])("%s is transient", (error) => {
    expect(isTransientAwsError(error)).toBe(true);
  });

  it.each([
    named("ConditionalCheckFailedException", { $metadata: { httpStatusCode: 400 } }),
    named("ResourceNotFoundException", { $metadata: { httpStatusCode: 400 } }),
    named("AccessDeniedException", { $metadata: { httpStatusCode: 400 } }),
    named("ValidationException", { $metadata: { httpStatusCode: 400 } }),
    named("CorruptItemError"),
    cancelled("ConditionalCheckFailed", "None"),
    cancelled("TransactionConflict", "None"),
    cancelled("ConditionalCheckFailed", "ThrottlingError"),
    "a string",
  ])("%s is not", (error) => {
    expect(isTransientAwsError(error)).toBe(false);
  });

  it("the EmbedError keeps only the AWS error's name, and answers 503 with Retry-After", () => {
    const error = serviceUnavailable(named("ThrottlingException", { message: "arn:aws:dynamodb:... table jupid-sessions" }));
    expect(error).toBeInstanceOf(EmbedError);
    expect(error.cause).toEqual({ name: "ThrottlingException" });
    expect(error.message).not.toContain("arn");
    const { status, body, headers } = describeError(error);
    expect([status, body.error.code, headers["Retry-After"]]).toEqual([503, "SERVICE_UNAVAILABLE", "1"]);
  });

  it("request timeouts throw (the SDK only warns without throwOnRequestTimeout)", () => {
    expect(REQUEST_TIMEOUTS).toMatchObject({ throwOnRequestTimeout: true });
    expect(REQUEST_TIMEOUTS.requestTimeout).toBeGreaterThan(0);
  });
});

describe("a request still running close to the Lambda timeout", () => {
  it("is answered 503 SERVICE_UNAVAILABLE with Retry-After before the Lambda is killed, and logged", async () => {
    const lines: string[] = [];
    const previous = setLogSink((line) => lines.push(line));
    try {
      const hanging = httpHandler("test", () => new Promise(() => undefined));
      const context = { getRemainingTimeInMillis: () => TIMEOUT_EARLY_MS + 50 } as unknown as Context;
      const started = Date.now();
      const answer = await hanging({ httpMethod: "GET", headers: {}, path: "/x" } as unknown as APIGatewayProxyEvent, context);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(answer.statusCode).toBe(503);
      expect(answer.headers?.["Retry-After"]).toBe("1");
      expect(JSON.parse(answer.body).error.code).toBe("SERVICE_UNAVAILABLE");
      expect(lines.join("\n")).toContain('"dependency unavailable"');
      expect(lines.join("\n")).not.toContain('"unhandled error"');
    } finally {
      setLogSink(previous);
    }
  });
});
