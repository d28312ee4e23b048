/**
 * Issue 12's findings, re-tested one by one against the local gateway (real
 * node:http for what depends on the raw request, in-process otherwise):
 * open redirects through dot segments with production's empty base path,
 * malformed request targets, short internal keys, the security headers.
 */
import { dpopKey } from "../fixtures/dpop.ts";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { PERMISSIONS_POLICY, seeOther, STRICT_TRANSPORT_SECURITY } from "../../lambdas/http/responses.ts";
import { checkInternalKey, type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { ensureInternalKey } from "../../lambdas/local/main.ts";
import { partnerInput, testEnvironment } from "../fixtures/partners.ts";
import { mintToken, NOW, TEST_SECRET } from "../fixtures/tokens.ts";

const ORIGIN = "http://localhost:3000";
const logLines: string[] = [];
let gateway: RunningGateway;
const dir = mkdtempSync(join(tmpdir(), "jupid-hardening-"));

beforeAll(async () => {
  setLogSink((line) => logLines.push(line));
  // Production's shape: the workspace at the root of the app origin.
  const config = testEnvironment([partnerInput("acme", { allowedOrigins: [ORIGIN] })], { workspaceBasePath: "" });
  gateway = await startGateway({ config, secrets: { acme: TEST_SECRET }, port: 0, clock: () => NOW });
});

afterAll(async () => {
  await gateway.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A request with a raw request target, which fetch() would normalise away. */
function rawRequest(target: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: target, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const DOT_SEGMENT_ESCAPES = ["/.//evil.test/x", "/..//evil.test/x", "/%2e//evil.test/x", "/%2E%2E//evil.test/x", "/a/..//evil.test/x"];

describe("open redirect through dot segments (workspaceBasePath \"\")", () => {
  it.each(DOT_SEGMENT_ESCAPES)("%s: PATH_NOT_ALLOWED on every route that redirects, and the token stays unused", async (path) => {
    const sub = `dots-${randomUUID()}`;
    // A returning user, so that the requested path (not firstRunPath) would be used.
    const first = mintToken("acme", { claims: { sub } });
    expect((await gateway.handle(await sessionPost(first, "/"))).statusCode).toBe(200);

    const t = mintToken("acme", { claims: { sub } });
    const form = await gateway.handle({
      method: "POST",
      target: "/partner/acme/enter",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: Buffer.from(new URLSearchParams({ token: t, path }).toString()),
    });
    const query = await gateway.handle({
      method: "GET",
      target: `/partner/acme/enter?token=${t}&path=${encodeURIComponent(path)}`,
      headers: {},
      body: Buffer.alloc(0),
    });
    const session = await gateway.handle(await sessionPost(t, path));
    for (const answer of [form, query, session]) {
      expect(answer.statusCode).toBe(403);
      expect(answer.headers?.Location).toBeUndefined();
      expect(answer.body).toContain("PATH_NOT_ALLOWED");
    }
    // Nothing was consumed: the same token still signs in.
    expect((await gateway.handle(await sessionPost(t, "/dashboard"))).statusCode).toBe(200);
  });

  it("seeOther refuses any Location that is not an app-relative path", () => {
    expect(seeOther("/dashboard").headers?.Location).toBe("/dashboard");
    for (const location of ["//evil.test/x", "/\\evil.test", "https://evil.test/", "/\tx", " /x", ""]) {
      expect(() => seeOther(location), location).toThrow(expect.objectContaining({ code: "PATH_NOT_ALLOWED" }));
    }
  });
});

/** A frame sign-in as the bootstrap posts it, with a DPoP proof at the gateway's frozen clock. */
async function sessionPost(token: string, initialPath: string) {
  const proof = await (await dpopKey(() => NOW)).proof("POST", `${gateway.url}/embed/acme/session`);
  return {
    method: "POST",
    target: "/embed/acme/session",
    headers: { "content-type": "application/json", dpop: proof },
    body: Buffer.from(JSON.stringify({ token, parentOrigin: ORIGIN, initialPath })),
  };
}

describe("malformed request targets", () => {
  it.each(["//[/healthz", "http://[/healthz", "//a:99999/healthz", "//%zz/healthz", "http://u:p@/healthz", "//evil.test/healthz"])(
    "%s: 400 BAD_REQUEST with a log line",
    async (target) => {
      const before = logLines.length;
      const response = await rawRequest(target);
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body).error.code).toBe("BAD_REQUEST");
      const logged = logLines.slice(before).map((line) => JSON.parse(line));
      expect(logged).toContainEqual(expect.objectContaining({ status: 400, code: "BAD_REQUEST", reason: "malformed request target" }));
    },
  );

  it("well-formed targets, absolute-form included, still route", async () => {
    expect((await rawRequest("/healthz")).status).toBe(200);
    expect((await rawRequest("http://gateway.example/healthz")).status).toBe(200);
    expect((await rawRequest("/healthz?x=%zz")).status).toBe(200);
  });
});

describe("internal keys", () => {
  it("shorter than 16 bytes refuse to start", async () => {
    for (const key of ["", "short", "a".repeat(15)]) {
      expect(() => checkInternalKey(key)).toThrow(/at least 16 bytes/);
      await expect(startGateway({ config: testEnvironment([]), secrets: {}, port: 0, internalKey: key })).rejects.toThrow(/at least 16 bytes/);
    }
    expect(checkInternalKey("a".repeat(16))).toBe("a".repeat(16));
  });

  it("an empty key file or an empty JUPID_INTERNAL_KEY refuses to start (npm start)", () => {
    const file = join(dir, "internal-key");
    writeFileSync(file, "\n");
    expect(() => ensureInternalKey(file, {})).toThrow(/internal key file .* at least 16 bytes/);
    expect(() => ensureInternalKey(join(dir, "other"), { JUPID_INTERNAL_KEY: "" })).toThrow(/JUPID_INTERNAL_KEY must be at least 16 bytes/);
    const fresh = ensureInternalKey(join(dir, "fresh", "internal-key"), {});
    expect(Buffer.byteLength(fresh)).toBeGreaterThanOrEqual(16);
  });
});

describe("security headers on every Lambda answer", () => {
  it("HSTS with includeSubDomains and a Permissions-Policy denying unused features", async () => {
    const answers = [
      await gateway.handle({ method: "GET", target: "/healthz", headers: {}, body: Buffer.alloc(0) }),
      await gateway.handle({ method: "GET", target: "/embed/acme", headers: {}, body: Buffer.alloc(0) }),
      await gateway.handle({ method: "GET", target: "/partner/acme/enter", headers: {}, body: Buffer.alloc(0) }),
      await gateway.handle({ method: "GET", target: "/app/", headers: {}, body: Buffer.alloc(0) }),
      await gateway.handle(await sessionPost("not-a-token", "/")),
    ];
    for (const answer of answers) {
      expect(answer.headers?.["Strict-Transport-Security"]).toBe(STRICT_TRANSPORT_SECURITY);
      expect(answer.headers?.["Permissions-Policy"]).toBe(PERMISSIONS_POLICY);
    }
    expect(STRICT_TRANSPORT_SECURITY).toMatch(/^max-age=\d{8}; includeSubDomains$/);
    for (const feature of ["camera", "microphone", "geolocation", "payment", "usb"]) expect(PERMISSIONS_POLICY).toContain(`${feature}=()`);
  });
});
