/**
 * GET /embed/{partnerId}/embeddable through the local gateway (real handlers
 * over node:http): the answer for each partner state and origin, its caching
 * and CORS headers, 400 BAD_REQUEST for anything that is not an exact origin,
 * and never a 5xx for any path segment or query (property-based, fast-check).
 * Then the SDK's diagnose() against the same gateway, and against none.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { diagnose } from "../../sdk/src/diagnose.ts";
import { createServer } from "node:net";
import { partnerInput, testEnvironment } from "../fixtures/partners.ts";
import { TEST_SECRET } from "../fixtures/tokens.ts";

const PAGE = "http://localhost:3000";
let gateway: RunningGateway;

beforeAll(async () => {
  setLogSink(() => {});
  gateway = await startGateway({
    config: testEnvironment(
      [partnerInput("acme-books", { allowedOrigins: [PAGE] }), partnerInput("initech", { enabled: false, allowedOrigins: [PAGE] })],
      { environment: "staging" },
    ),
    secrets: { "acme-books": TEST_SECRET, initech: TEST_SECRET },
    port: 0,
  });
});

afterAll(async () => {
  await gateway?.close();
});

const ask = (partnerId: string, origin?: string, init?: RequestInit) =>
  fetch(`${gateway.url}/embed/${partnerId}/embeddable${origin === undefined ? "" : `?origin=${encodeURIComponent(origin)}`}`, init);

describe("GET /embed/{partnerId}/embeddable", () => {
  it.each([
    ["acme-books", PAGE, { partner: "known", origin: "allowed" }],
    ["acme-books", "http://localhost:3001", { partner: "known", origin: "not-allowed" }],
    ["acme-books", "https://localhost:3000", { partner: "known", origin: "not-allowed" }],
    ["initech", PAGE, { partner: "disabled", origin: "allowed" }],
    ["nobody-here", PAGE, { partner: "unknown", origin: "not-allowed" }],
    ["Not%20An%20Id", PAGE, { partner: "unknown", origin: "not-allowed" }],
  ])("%s from %s", async (partnerId, origin, expected) => {
    const response = await ask(partnerId, origin);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ...expected, environment: "staging" });
    expect(response.headers.get("cache-control")).toBe("public, max-age=60");
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  it.each([
    ["no origin", undefined],
    ["an empty origin", ""],
    ["a trailing slash", `${PAGE}/`],
    ["a path", `${PAGE}/finance`],
    ["null", "null"],
    ["a wildcard", "https://*.example.com"],
    ["not a URL", "acme"],
    ["another scheme", "ftp://example.com"],
    ["an over-long origin", `https://${"a".repeat(600)}.example`],
  ])("refuses %s with 400 BAD_REQUEST, not cacheable", async (_label, origin) => {
    const response = await ask("acme-books", origin);
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("BAD_REQUEST");
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("answers HEAD like GET and refuses POST with 405", async () => {
    expect((await ask("acme-books", PAGE, { method: "HEAD" })).status).toBe(200);
    expect((await ask("acme-books", PAGE, { method: "POST" })).status).toBe(405);
  });

  it("a query parameter named __proto__ or constructor is only a parameter (found by the property below)", async () => {
    for (const search of ["__proto__", "constructor", "__proto__=1&origin=x", `constructor=1&origin=${encodeURIComponent(PAGE)}`]) {
      const response = await fetch(`${gateway.url}/embed/acme-books/embeddable?${search}`);
      expect(response.status, search).toBeLessThan(500);
    }
    const response = await fetch(`${gateway.url}/embed/acme-books/embeddable?constructor=1&origin=${encodeURIComponent(PAGE)}`);
    expect(await response.json()).toMatchObject({ partner: "known", origin: "allowed" });
  });

  it("never answers 5xx, whatever the path segment and query", async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom("acme-books", "initech", "nobody-here")),
        fc.oneof(fc.string({ maxLength: 300 }), fc.webUrl().map((url) => new URL(url).origin), fc.constant(PAGE)),
        fc.boolean(),
        async (segment, query, raw) => {
        const path = encodeURIComponent(segment) || "x";
        const search = raw ? query.replace(/[#\s]/g, "") : `origin=${encodeURIComponent(query)}`;
        const response = await fetch(`${gateway.url}/embed/${path}/embeddable?${search}`);
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
    console.log(`[figures] embeddable fuzz: ${JSON.stringify(Object.fromEntries(statuses))}`);
  });
});

describe("diagnose() (sdk/src/diagnose.ts)", () => {
  it("names the precise code, the origin and the environment", async () => {
    expect(await diagnose(gateway.url, "nobody-here", PAGE)).toEqual({
      code: "PARTNER_NOT_FOUND",
      message: `partner nobody-here is unknown, origin ${PAGE} is not-allowed (Jupid staging, ${gateway.url})`,
    });
    expect(await diagnose(gateway.url, "initech", PAGE)).toEqual({
      code: "PARTNER_DISABLED",
      message: `partner initech is disabled, origin ${PAGE} is allowed (Jupid staging, ${gateway.url})`,
    });
    expect(await diagnose(gateway.url, "acme-books", "http://localhost:8000")).toEqual({
      code: "ORIGIN_NOT_ALLOWED",
      message: `partner acme-books is known, origin http://localhost:8000 is not-allowed (Jupid staging, ${gateway.url})`,
    });
  });

  it("HANDSHAKE_TIMEOUT when the gateway finds nothing wrong, or gives no usable answer", async () => {
    expect(await diagnose(gateway.url, "acme-books", PAGE)).toEqual({ code: "HANDSHAKE_TIMEOUT", message: "the Jupid frame did not answer" });
    // An app that answers something else than JSON (an old gateway, a CDN error page).
    expect((await diagnose(gateway.url, "acme-books/../../embed.js#", PAGE)).code).toBe("HANDSHAKE_TIMEOUT");
    // A bad origin answers 400 with an error body: nothing to go on.
    expect((await diagnose(gateway.url, "acme-books", "null")).code).toBe("HANDSHAKE_TIMEOUT");
  });

  it("NETWORK_ERROR when the app cannot be reached", async () => {
    // A port nothing listens on: bound, noted, closed.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const closed = `http://127.0.0.1:${port}`;
    expect(await diagnose(closed, "acme-books", PAGE)).toEqual({ code: "NETWORK_ERROR", message: `${closed} cannot be reached` });
  });
});
