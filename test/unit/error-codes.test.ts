/**
 * The SDK forwards the gateway's codes unchanged, so its public `GatewayErrorCode`
 * (sdk/src/protocol.ts, no server imports) must be exactly the gateway's union
 * (lambdas/core/errors.ts). `npm run typecheck` fails when the two differ.
 */
import { describe, expectTypeOf, it, expect } from "vitest";
import { ERROR_CODES, type ErrorCode } from "../../lambdas/core/errors.ts";
import { STATUS_OF } from "../../lambdas/http/errors.ts";
import type { GatewayErrorCode } from "../../sdk/src/protocol.ts";

describe("error codes", () => {
  it("the SDK's GatewayErrorCode is the gateway's ErrorCode, no more, no less", () => {
    expectTypeOf<GatewayErrorCode>().toEqualTypeOf<ErrorCode>();
  });

  it("every code has one HTTP status, and only INTERNAL (a bug) is a 5xx besides the provider/service codes", () => {
    expect(Object.keys(STATUS_OF).sort()).toEqual([...ERROR_CODES].sort());
    const serverSide = ERROR_CODES.filter((code) => STATUS_OF[code] >= 500);
    for (const code of serverSide) expect(["INTERNAL", "SERVICE_UNAVAILABLE", "OIDC_PROVIDER_UNAVAILABLE"]).toContain(code);
  });
});
