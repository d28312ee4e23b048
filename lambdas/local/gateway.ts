/**
 * The local gateway: the same Lambda handlers behind node:http, turning each
 * request into an API Gateway proxy event (REST, v1) the way API Gateway
 * does. It is what `npm start` runs, what the browser tests and benchmarks
 * drive, and the reference for what the deployed stack must do.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import type { EnvironmentConfig } from "../../config/schema.ts";
import { createMemoryDependencies, type MemoryDependencies } from "../adapters/memory/index.ts";
import { settingsOf } from "../core/settings.ts";
import { createEmbedPageHandler } from "../handlers/embed-page.ts";
import { createEmbeddableHandler } from "../handlers/embeddable.ts";
import { createEnterHandler } from "../handlers/enter.ts";
import { createHealthHandler } from "../handlers/health.ts";
import { createInternalHandler } from "../handlers/internal.ts";
import { createOidcHandler } from "../handlers/oidc.ts";
import { type HandlerName, matchRoute } from "../handlers/routes.ts";
import type { Runtime } from "../handlers/runtime.ts";
import { createSessionHandler } from "../handlers/session.ts";
import { createWorkspaceHandler } from "../handlers/workspace.ts";
import type { LambdaHandler } from "../http/handler.ts";
import { log } from "../http/logger.ts";
import { type HttpResult, json } from "../http/responses.ts";
import { ensureLocalCertificate } from "./tls.ts";

export const SDK_DIST_DIR = join(import.meta.dirname, "..", "..", "sdk", "dist");
/** Requests larger than this are cut off before they reach a handler (API Gateway allows 10 MB; we need 16 KB). */
const MAX_REQUEST_BYTES = 64 * 1024;
/** A shorter internal key is refused at start: an empty or short key would make `/internal/*` guessable. */
export const MIN_INTERNAL_KEY_BYTES = 16;

export interface GatewayOptions {
  readonly config: EnvironmentConfig;
  /** `{partnerId: secret}`: the current signing key of each partner. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Key for `x-jupid-internal-key` on /internal/* (stands in for IAM locally). */
  readonly internalKey?: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Frozen clocks for tests. */
  readonly clock?: () => number;
  /** Ports to use instead of fresh in-memory ones (e.g. the AWS adapters in a benchmark). */
  readonly deps?: Runtime["deps"];
  /** `{partnerId: secret}`: OIDC client secrets for the in-memory ports. */
  readonly oidcClientSecrets?: Readonly<Record<string, string>>;
  /** HTTP to OpenID providers (tests count and tamper with it); global fetch when absent. */
  readonly providerFetch?: Runtime["deps"]["providerFetch"];
  readonly sdkDir?: string;
  /**
   * Serve https with the self-signed localhost/127.0.0.1 certificate of
   * {@link ensureLocalCertificate} (made once with openssl), so that cookies,
   * `Secure` and storage behave as in production. A string is the directory
   * the certificate is kept in.
   * @default false (plain http)
   */
  readonly tls?: boolean | string;
}

export interface RunningGateway {
  /** Origin the gateway listens on, e.g. http://127.0.0.1:4000 (https://… with `tls`); also the settings' appUrl. */
  readonly url: string;
  /** With `tls`: the PEM certificate a Node client passes as `ca` to trust the gateway. */
  readonly ca: string | undefined;
  readonly runtime: Runtime;
  /** The in-memory ports (when `deps` was not given), for tests to inspect and to rotate keys. */
  readonly memory: MemoryDependencies | undefined;
  readonly internalKey: string;
  /** The routing function behind the socket, for driving the gateway in-process (property tests). */
  readonly handle: (request: GatewayRequest) => Promise<HttpResult>;
  close(): Promise<void>;
}

/** One HTTP request as node:http hands it over: the raw request target, not a parsed URL. */
export interface GatewayRequest {
  readonly method: string;
  /** The request target exactly as sent (`/path?query`, or absolute-form `http://host/path`). */
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
  /** Undefined: the body was larger than the gateway accepts. */
  readonly body: Buffer | undefined;
  readonly httpVersion?: string;
  readonly remoteAddress?: string;
}

/**
 * Refuse an internal key that is missing or shorter than
 * {@link MIN_INTERNAL_KEY_BYTES}; returns the key.
 */
export function checkInternalKey(key: string, source = "the internal key"): string {
  if (Buffer.byteLength(key, "utf8") < MIN_INTERNAL_KEY_BYTES) {
    throw new Error(`${source} must be at least ${MIN_INTERNAL_KEY_BYTES} bytes; delete it to have a fresh random one generated`);
  }
  return key;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const host = options.host ?? "127.0.0.1";
  const internalKey = checkInternalKey(options.internalKey ?? randomBytes(24).toString("base64url"));
  const memory = options.deps ? undefined : createMemoryDependencies(options.config, options.clock);
  if (memory) {
    for (const [partnerId, secret] of Object.entries(options.secrets)) memory.secrets.setCurrent(partnerId, secret, "local");
    for (const [partnerId, secret] of Object.entries(options.oidcClientSecrets ?? {})) memory.secrets.setOidcClientSecret(partnerId, secret);
  }
  const baseDeps = options.deps ?? (memory as MemoryDependencies);
  const deps = options.providerFetch ? { ...baseDeps, providerFetch: options.providerFetch } : baseDeps;

  let runtime: Runtime | undefined;
  const getRuntime = () => {
    if (!runtime) throw new Error("gateway not listening yet");
    return runtime;
  };
  const handlers: Record<HandlerName, LambdaHandler> = {
    health: createHealthHandler(getRuntime),
    "embed-page": createEmbedPageHandler(getRuntime),
    embeddable: createEmbeddableHandler(getRuntime),
    session: createSessionHandler(getRuntime),
    enter: createEnterHandler(getRuntime),
    oidc: createOidcHandler(getRuntime),
    internal: createInternalHandler(getRuntime),
    workspace: createWorkspaceHandler(getRuntime),
  };
  const sdkDir = options.sdkDir ?? SDK_DIST_DIR;

  const handle = (request: GatewayRequest) => route(request, handlers, sdkDir);
  const listener: RequestListener = (req, res) => {
    readBody(req)
      .then((body) =>
        handle({ method: req.method ?? "GET", target: req.url ?? "/", headers: req.headers, body, httpVersion: req.httpVersion, remoteAddress: req.socket.remoteAddress }),
      )
      .then((result) => send(res, result, (req.method ?? "").toUpperCase() === "HEAD"))
      .catch((error: unknown) => {
        // Only the error's name: its message could quote the request.
        log("error", "local gateway: unhandled error", { error: error instanceof Error ? error.name : typeof error });
        if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: { code: "INTERNAL", message: "internal error" } }));
      });
  };
  const certificate = options.tls ? ensureLocalCertificate(typeof options.tls === "string" ? { dir: options.tls } : {}) : undefined;
  const server = certificate ? createHttpsServer({ key: certificate.key, cert: certificate.cert }, listener) : createServer(listener);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 4000, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `${certificate ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
  // The app origin is wherever we actually listen, so a random test port still yields matching URLs and cookies.
  runtime = { deps, settings: { ...settingsOf(options.config), appUrl: url }, internalAuth: { kind: "key", key: internalKey } };

  return {
    url,
    ca: certificate?.cert,
    runtime,
    memory,
    internalKey,
    handle,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const GATEWAY_BASE = "http://gateway.invalid";

/**
 * The request target as a URL, or undefined when it is malformed: origin-form
 * must start with exactly one `/` (RFC 3986 path-absolute), absolute-form
 * must be an http(s) URL that parses.
 */
export function parseRequestTarget(target: string): URL | undefined {
  try {
    if (target.startsWith("/") && !target.startsWith("//")) return new URL(target, GATEWAY_BASE);
    if (/^https?:\/\//i.test(target)) return new URL(target);
  } catch {
    return undefined;
  }
  return undefined;
}

/** Route one request to its handler, as API Gateway would: never throws for anything the caller sent. */
async function route(request: GatewayRequest, handlers: Record<HandlerName, LambdaHandler>, sdkDir: string): Promise<HttpResult> {
  const method = request.method.toUpperCase();
  const url = parseRequestTarget(request.target);
  if (!url) {
    // The target itself is not logged: it is caller input and may carry a token.
    log("warn", "request", { route: "gateway", method, status: 400, code: "BAD_REQUEST", reason: "malformed request target" });
    return json(400, { error: { code: "BAD_REQUEST", message: "malformed request target" } });
  }

  if (url.pathname === "/embed.js" || url.pathname === "/sdk/v1/embed.js") return sdkResult(sdkDir, "embed.js");
  if (url.pathname === "/" && method === "GET") return { statusCode: 302, headers: { Location: "/app/" }, body: "" };

  const match = matchRoute(url.pathname);
  if (!match) return json(404, { error: { code: "NOT_FOUND", message: "no such route" } });
  if (!match.route.methods.includes(method as "GET") && !(method === "HEAD" && match.route.methods.includes("GET"))) {
    return json(405, { error: { code: "METHOD_NOT_ALLOWED", message: `use ${match.route.methods.join(" or ")}` } });
  }
  if (request.body === undefined) return json(413, { error: { code: "PAYLOAD_TOO_LARGE", message: "request body is too large" } });
  const event = toProxyEvent(request, url, method, match.route.path, match.params, request.body);
  return handlers[match.route.handler](event, lambdaContext(match.route.handler));
}

function sdkResult(sdkDir: string, file: string): HttpResult {
  let code: Buffer;
  try {
    code = readFileSync(join(sdkDir, file));
  } catch {
    return json(503, { error: { code: "INTERNAL", message: "embed.js is not built: run `npm run build`" } });
  }
  return {
    statusCode: 200,
    headers: {
      "Content-Type": "text/javascript; charset=utf-8",
      "Cache-Control": "public, max-age=300",
      "X-Content-Type-Options": "nosniff",
      // Loaded by partner pages on other origins.
      "Cross-Origin-Resource-Policy": "cross-origin",
      "Access-Control-Allow-Origin": "*",
    },
    body: code.toString("base64"),
    isBase64Encoded: true,
  };
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The event API Gateway (REST API, Lambda proxy integration) would send. */
function toProxyEvent(
  req: GatewayRequest,
  url: URL,
  method: string,
  resource: string,
  pathParameters: Record<string, string>,
  body: Buffer,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    headers[name] = values.join(name === "cookie" ? "; " : ", ");
    multiValueHeaders[name] = values;
  }
  // No prototype: a parameter named __proto__ or constructor is just a name (API Gateway's JSON event has own keys too).
  const query: Record<string, string> = Object.create(null);
  const multiQuery: Record<string, string[]> = Object.create(null);
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    const list = multiQuery[name] ?? [];
    list.push(value);
    multiQuery[name] = list;
  }
  const hasQuery = url.searchParams.size > 0;
  return {
    resource,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : null,
    stageVariables: null,
    // As API Gateway without binary media types: text bodies as they are; only bytes that are not UTF-8 in base64.
    ...bodyOf(body),
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      authorizer: null,
      httpMethod: method,
      identity: { sourceIp: req.remoteAddress ?? "127.0.0.1", userAgent: req.headers["user-agent"] ?? null },
      path: url.pathname,
      protocol: `HTTP/${req.httpVersion ?? "1.1"}`,
      requestId: nextRequestId(),
      requestTimeEpoch: Date.now(),
      resourceId: "local",
      resourcePath: resource,
      stage: "local",
    } as APIGatewayProxyEvent["requestContext"],
  };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function bodyOf(body: Buffer): { body: string | null; isBase64Encoded: boolean } {
  if (body.length === 0) return { body: null, isBase64Encoded: false };
  try {
    return { body: utf8.decode(body), isBase64Encoded: false };
  } catch {
    return { body: body.toString("base64"), isBase64Encoded: true };
  }
}

// Unique per process is all a request id needs here; no entropy to draw per request.
let requestCounter = 0;
const requestIdPrefix = randomBytes(4).toString("hex");
const nextRequestId = () => `${requestIdPrefix}${(++requestCounter).toString(16).padStart(8, "0")}`;

function lambdaContext(name: string): Context {
  return {
    functionName: `local-${name}`,
    awsRequestId: nextRequestId(),
    getRemainingTimeInMillis: () => 30_000,
  } as Context;
}

function send(
  res: ServerResponse,
  result: {
    statusCode: number;
    headers?: Record<string, unknown>;
    multiValueHeaders?: Record<string, unknown[]>;
    body: string;
    isBase64Encoded?: boolean;
  },
  headOnly = false,
): void {
  const body = result.isBase64Encoded ? Buffer.from(result.body, "base64") : Buffer.from(result.body, "utf8");
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  // Like API Gateway: multiValueHeaders (several Set-Cookie) are sent as repeated headers.
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name] = values.map(String);
  // A known length: one write, no chunked framing (API Gateway sends Content-Length too).
  headers["Content-Length"] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(headOnly ? undefined : body);
}
