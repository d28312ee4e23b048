/**
 * Property-based tests (fast-check) of issue 12's invariants over generated
 * request targets, bodies, headers, cookies, token strings and paths:
 *
 *   - no input yields a 5xx, or a thrown error that is not an EmbedError
 *     (the handler wrapper logs "unhandled error" for those: none may appear);
 *   - no answer redirects off the app origin (Location, redirectTo);
 *   - no token appears in an answer or a log line (the redirect entry's
 *     confirmation page is the one place a token is sent back: in its form).
 *
 * The bulk drives the local gateway's routing function in-process (the same
 * code path as a socket request after parsing); a smaller share goes over
 * real HTTP with raw request lines. Every run is counted and the total is
 * asserted (>= 100,000 generated inputs). Seeds are fixed so that a failure
 * reproduces; fast-check prints the shrunk counterexample.
 */
import { dpopKey } from "../fixtures/dpop.ts";
import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbedError } from "../../lambdas/core/errors.ts";
import { isAppRelative, resolveInitialPath } from "../../lambdas/core/paths.ts";
import { setLogSink } from "../../lambdas/http/logger.ts";
import type { HttpResult } from "../../lambdas/http/responses.ts";
import { type GatewayRequest, type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { partnerInput, testEnvironment } from "../fixtures/partners.ts";
import { NOW, NOW_S, signRaw, TEST_SECRET } from "../fixtures/tokens.ts";

const PARTNER_ORIGIN = "http://localhost:3000";
const PROPERTY_TIMEOUT = 120_000;
let gateway: RunningGateway;
const proofs: Record<string, string> = {};
let logLines: string[] = [];
const counts: Record<string, number> = {};

beforeAll(async () => {
  setLogSink((line) => logLines.push(line));
  // Production's shape: the workspace at the root of the app origin (the case where `//x` would leave it).
  const config = testEnvironment(
    [
      partnerInput("acme", { allowedOrigins: [PARTNER_ORIGIN] }),
      partnerInput("globex", { allowedPaths: ["/dashboard", "/reports/"] }),
      partnerInput("initech", { enabled: false }),
    ],
    { workspaceBasePath: "" },
  );
  gateway = await startGateway({ config, secrets: { acme: TEST_SECRET, globex: TEST_SECRET, initech: TEST_SECRET }, port: 0, clock: () => NOW });
  // One valid DPoP proof per sign-in URL (sign-in proofs are not single-use: the token is), so that the
  // generated tokens and paths reach the checks behind the proof.
  const key = await dpopKey(() => NOW);
  for (const partnerId of ["acme", "globex"]) proofs[partnerId] = await key.proof("POST", `${gateway.url}/embed/${partnerId}/session`);
});

afterAll(async () => {
  await gateway.close();
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  console.log(`[figures] properties: ${Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(" ")} total=${total}`);
  expect(total).toBeGreaterThanOrEqual(100_000);
});

// --- generators ------------------------------------------------------------------------------

/** Pieces that break path handling: dot segments (plain and encoded), slashes, backslashes, schemes, controls. */
const PATH_PIECES = ["/", "//", ".", "..", "%2e", "%2E", "%2e%2e", "%2f", "%2F", "\\", "%5c", "evil.test", "a", "app", "dashboard", "?", "#", "&", "=", "%00", "%0a", "\t", "\n", " ", "https:", "javascript:", ":", "@", "%", "%zz", "é", "\u2028", "[", "]"];
const pathLike = fc.oneof(
  fc.array(fc.constantFrom(...PATH_PIECES), { maxLength: 10 }).map((parts) => parts.join("")),
  fc.webPath(),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
);
const ROUTE_PREFIXES = ["/healthz", "/embed/acme", "/embed/acme/session", "/partner/acme/enter", "/partner/globex/enter", "/app", "/app/", "/internal/sessions/resolve", "/internal/usage", "/internal/entitlements/usr_00", "/embed/initech", "/embed/%00", "", "/", "http://x", "//"];
const target = fc.oneof(
  fc.tuple(fc.constantFrom(...ROUTE_PREFIXES), pathLike).map(([a, b]) => a + b),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.string({ maxLength: 60 }),
  fc.constantFrom("//[/healthz", "http://[/healthz", "//a:99999/healthz", "//%zz/healthz", "http://u:p@/healthz", "*", "/healthz?%zz", "/%"),
);
const method = fc.constantFrom("GET", "POST", "DELETE", "HEAD", "PUT", "OPTIONS", "PATCH", "get", "TRACE");
const headerValue = fc.oneof(fc.string({ maxLength: 80 }), fc.webUrl(), fc.constantFrom(PARTNER_ORIGIN, "null", "", "https://evil.example", "http://127.0.0.1:4000"));
const cookie = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.array(fc.tuple(fc.constantFrom("jupid_session", "__Host-jupid_session", "x", ""), fc.string({ maxLength: 50 })), { maxLength: 4 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("; ")),
  fc.stringMatching(/^jupid_session=[A-Za-z0-9_-]{43}$/),
);
const headers = fc.record(
  {
    "content-type": fc.constantFrom("application/json", "application/x-www-form-urlencoded", "text/plain", "application/json; charset=utf-8", "", "multipart/form-data"),
    origin: headerValue,
    referer: headerValue,
    cookie,
    accept: fc.constantFrom("text/html", "application/json", "*/*"),
    "x-jupid-internal-key": fc.string({ maxLength: 40 }),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify({ token: value, parentOrigin: PARTNER_ORIGIN, initialPath: "/" })),
  fc.record({ token: fc.string(), path: pathLike, from: headerValue, confirm: fc.constantFrom("1", "0", "") }, { requiredKeys: [] }).map((f) => new URLSearchParams(f as Record<string, string>).toString()),
);

let jti = 0;
/** A token correctly signed with the partner's secret, with claims that may or may not be valid. */
function signedToken(partnerId: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  return signRaw(
    JSON.stringify({ alg: "HS256", typ: "JWT", ...header }),
    JSON.stringify({ iss: partnerId, aud: "jupid-embed", sub: `prop-${jti % 500}`, name: "Prop User", email: "prop@example.com", iat: NOW_S, exp: NOW_S + 300, jti: `prop-${jti++}`, ...claims }),
  );
}
const claimValue = fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.integer(), fc.constantFrom(NOW_S, NOW_S + 300, NOW_S - 400, "acme", "jupid-embed", null));
const tokenString = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,40}\.[A-Za-z0-9_-]{1,60}\.[A-Za-z0-9_-]{0,50}$/),
  fc.dictionary(fc.constantFrom("iss", "aud", "sub", "iat", "exp", "nbf", "jti", "email", "name", "payload", "extra"), claimValue, { maxKeys: 5 }).map((claims) => signedToken("acme", claims)),
  fc.dictionary(fc.constantFrom("alg", "typ", "kid", "jku", "crit", "b64"), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }).map((header) => signedToken("acme", {}, header)),
  fc.tuple(fc.nat(), fc.constantFrom("", "=", " ", ".", "A", "\n")).map(([at, insert]) => {
    const valid = signedToken("acme");
    const i = at % (valid.length + 1);
    return valid.slice(0, i) + insert + valid.slice(i + 1);
  }),
  fc.constant(null).map(() => signedToken("acme")),
);

// --- invariants ------------------------------------------------------------------------------

function signatureOf(token: unknown): string | undefined {
  if (typeof token !== "string") return undefined;
  const signature = token.split(".")[2];
  return signature && signature.length >= 20 ? signature : undefined;
}

/** The checks every answer must pass; `tokens` are the token strings this input carried. */
function checkAnswer(answer: HttpResult, tokens: readonly unknown[] = []): void {
  expect(answer.statusCode, answer.body.slice(0, 200)).toBeLessThan(500);
  const location = answer.headers?.Location;
  if (location !== undefined) {
    expect(new URL(String(location), gateway.url).origin).toBe(gateway.url);
    expect(isAppRelative(String(location)) || String(location) === "/app/").toBe(true);
  }
  if (answer.statusCode === 200 && String(answer.headers?.["Content-Type"]).startsWith("application/json")) {
    const redirectTo = (JSON.parse(answer.body) as { redirectTo?: string }).redirectTo;
    if (redirectTo !== undefined) expect(new URL(redirectTo, gateway.url).origin).toBe(gateway.url);
  }
  for (const token of tokens) {
    const signature = signatureOf(token);
    if (!signature) continue;
    const text = `${answer.body}\n${JSON.stringify(answer.headers ?? {})}`;
    const hits = text.split(signature).length - 1;
    // Only the redirect entry's confirmation page carries the token back: once, in its form's hidden field.
    if (hits > 0) {
      expect(answer.body).toContain('<form method="post" action="/partner/');
      expect(hits).toBe(1);
    }
    for (const line of logLines) expect(line).not.toContain(signature);
  }
  for (const line of logLines) expect(line).not.toContain('"unhandled error"');
  logLines = [];
}

async function handle(request: GatewayRequest, tokens: readonly unknown[] = []): Promise<void> {
  let answer: HttpResult;
  try {
    answer = await gateway.handle(request);
  } catch (error) {
    throw new Error(`the gateway threw for ${JSON.stringify(request.target)}: ${error instanceof Error ? error.name : typeof error}`);
  }
  checkAnswer(answer, tokens);
}

function counted<T>(name: string, predicate: (value: T) => Promise<void> | void) {
  return async (value: T) => {
    counts[name] = (counts[name] ?? 0) + 1;
    await predicate(value);
  };
}

const run = <T>(arbitrary: fc.Arbitrary<T>, name: string, numRuns: number, seed: number, predicate: (value: T) => Promise<void> | void) =>
  fc.assert(fc.asyncProperty(arbitrary, counted(name, predicate)), { numRuns, seed, endOnFailure: true });

// --- properties ------------------------------------------------------------------------------

describe("properties over generated input (in-process)", () => {
  it(
    "paths: resolveInitialPath either refuses with PATH_NOT_ALLOWED or returns a path that stays on the app",
    async () => {
      await fc.assert(
        fc.property(
          pathLike,
          fc.constantFrom<string[] | undefined>(undefined, ["/dashboard", "/reports/"]),
          (path, allowedPaths) => {
            counts.paths = (counts.paths ?? 0) + 1;
            let resolved: string;
            try {
              resolved = resolveInitialPath(path, { allowedPaths });
            } catch (error) {
              if (!(error instanceof EmbedError) || error.code !== "PATH_NOT_ALLOWED") throw error;
              return;
            }
            expect(isAppRelative(resolved), resolved).toBe(true);
            expect(new URL(resolved, "https://app.example").origin).toBe("https://app.example");
            // The gateway's Location is the workspace base path plus this, with production's "".
            expect(new URL(resolved, "https://app.example/app/x").origin).toBe("https://app.example");
          },
        ),
        { numRuns: 40_000, seed: 1201 },
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    "request targets x methods: never a 5xx, never off-origin",
    () => run(fc.tuple(method, target), "targets", 25_000, 1202, ([m, t]) => handle({ method: m, target: t, headers: {}, body: Buffer.alloc(0) })),
    PROPERTY_TIMEOUT,
  );

  it(
    "token strings on every sign-in route: never a 5xx, never a token in an answer or a log",
    () =>
      run(fc.tuple(tokenString, fc.constantFrom("session", "enter-form", "enter-query")), "tokens", 15_000, 1203, async ([token, route]) => {
        if (route === "session") {
          await handle(
            { method: "POST", target: "/embed/acme/session", headers: { "content-type": "application/json", dpop: proofs.acme as string }, body: Buffer.from(JSON.stringify({ token, parentOrigin: PARTNER_ORIGIN })) },
            [token],
          );
        } else if (route === "enter-form") {
          await handle(
            { method: "POST", target: "/partner/acme/enter", headers: { "content-type": "application/x-www-form-urlencoded", origin: PARTNER_ORIGIN }, body: Buffer.from(new URLSearchParams({ token }).toString()) },
            [token],
          );
        } else {
          await handle({ method: "GET", target: `/partner/acme/enter?token=${encodeURIComponent(token)}`, headers: {}, body: Buffer.alloc(0) }, [token]);
        }
      }),
    PROPERTY_TIMEOUT,
  );

  it(
    "valid tokens with generated paths (session, enter form, enter link): 200/303 on the app origin or PATH_NOT_ALLOWED",
    () =>
      run(fc.tuple(pathLike, fc.constantFrom("acme", "globex"), fc.constantFrom("session", "form", "query")), "signInPaths", 6_000, 1204, async ([path, partnerId, route]) => {
        const token = signedToken(partnerId);
        const request: GatewayRequest =
          route === "session"
            ? { method: "POST", target: `/embed/${partnerId}/session`, headers: { "content-type": "application/json", dpop: proofs[partnerId] as string }, body: Buffer.from(JSON.stringify({ token, parentOrigin: PARTNER_ORIGIN, initialPath: path })) }
            : route === "form"
              ? { method: "POST", target: `/partner/${partnerId}/enter`, headers: { "content-type": "application/x-www-form-urlencoded", origin: PARTNER_ORIGIN }, body: Buffer.from(new URLSearchParams({ token, path }).toString()) }
              : { method: "GET", target: `/partner/${partnerId}/enter?token=${token}&path=${encodeURIComponent(path)}`, headers: { referer: `${PARTNER_ORIGIN}/` }, body: Buffer.alloc(0) };
        const answer = await gateway.handle(request);
        checkAnswer(answer, [token]);
        expect([200, 303, 403]).toContain(answer.statusCode);
        if (answer.statusCode === 403) expect(answer.body).toContain("PATH_NOT_ALLOWED");
      }),
    PROPERTY_TIMEOUT,
  );

  it(
    "bodies x headers x cookies on every route: never a 5xx",
    () =>
      run(
        fc.tuple(fc.constantFrom(...ROUTE_PREFIXES.filter((p) => p.startsWith("/"))), method, headers, body),
        "requests",
        15_000,
        1205,
        ([path, m, h, b]) => handle({ method: m, target: path, headers: h, body: Buffer.from(b) }),
      ),
    PROPERTY_TIMEOUT,
  );

  it(
    "internal routes with the key and generated bodies: never a 5xx",
    () =>
      run(
        fc.tuple(fc.constantFrom("/internal/sessions/resolve", "/internal/usage", "/internal/entitlements/usr_00000000000000000000000000000000"), fc.oneof(body, fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify({ sessionId: v, userId: v, amount: v, metric: v })))),
        "internal",
        4_000,
        1206,
        ([path, b]) =>
          handle({
            method: path.includes("entitlements") ? "GET" : "POST",
            target: path,
            headers: { "content-type": "application/json", "x-jupid-internal-key": gateway.internalKey },
            body: Buffer.from(b),
          }),
      ),
    PROPERTY_TIMEOUT,
  );
});

/** One raw HTTP/1.1 request on a fresh socket; the status code, or 0 when the server closed without answering. */
function rawStatus(requestLine: string, extraHeaders = ""): Promise<number> {
  const { hostname, port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.end(`${requestLine}\r\nHost: ${hostname}\r\nConnection: close\r\n${extraHeaders}\r\n`);
    });
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk;
    });
    socket.on("end", () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0)));
    socket.on("error", reject);
  });
}

describe("properties over real HTTP (raw request lines)", () => {
  it(
    "request targets and cookies over a socket: never a 5xx",
    () =>
      run(fc.tuple(method, target, cookie), "http", 600, 1207, async ([m, t, c]) => {
        // Bytes an HTTP request line cannot carry are the HTTP parser's business (it answers 400 itself).
        // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
        const line = `${m.toUpperCase()} ${t.replace(/[\s\u0000-\u001f\u007f-\uffff]/g, "") || "/"} HTTP/1.1`;
        const status = await rawStatus(line, /^[\x20-\x7e]*$/.test(c) ? `Cookie: ${c}\r\n` : "");
        expect(status, line).toBeGreaterThanOrEqual(200);
        expect(status, line).toBeLessThan(500);
        for (const record of logLines) expect(record).not.toContain('"unhandled error"');
        logLines = [];
      }),
    PROPERTY_TIMEOUT,
  );
});
