/**
 * The peer of the local gateway in the session-load bench: an in-memory
 * server that fulfils the same sign-in contract with the least work this
 * process can do — node:http, no framework, no logging, no event objects.
 *
 * POST /embed/{partnerId}/session {token, parentOrigin} -> 200
 * {redirectTo, firstRun, expiresAt} + session cookie, after the checks that
 * make it the same contract: the request's Origin is the app, the partner
 * exists and allows parentOrigin, the token is HS256 with a valid HMAC
 * (node:crypto, cached key, constant-time compare), iss/aud/sub/iat/exp/jti
 * hold, the jti is used once, `(partner, sub)` maps to one user created once,
 * and a random session id is stored under its SHA-256. Anything else is a
 * 4xx. What it leaves out is what the gateway adds on top of the contract:
 * canonical-encoding and duplicate-key checks, every optional claim, the
 * API Gateway event, middy, logs.
 */
import { createHash, createHmac, createSecretKey, type KeyObject, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FloorOptions {
  /** `{partnerId: secret}`. */
  readonly secrets: Readonly<Record<string, string>>;
  /** `{partnerId: allowed origins}`. */
  readonly origins: Readonly<Record<string, readonly string[]>>;
  readonly sessionLifetimeSeconds: number;
}

export interface FloorServer {
  readonly url: string;
  close(): Promise<void>;
}

const PATH = /^\/embed\/([a-z0-9-]+)\/session$/;

export async function startFloorServer(options: FloorOptions): Promise<FloorServer> {
  const keys = new Map<string, KeyObject>(Object.entries(options.secrets).map(([id, secret]) => [id, createSecretKey(Buffer.from(secret, "utf8"))]));
  const used = new Set<string>();
  const users = new Map<string, string>();
  const sessions = new Map<string, { userId: string; partnerId: string; expiresAt: number }>();
  let url = "";

  const refuse = (res: ServerResponse, status: number, code: string) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(`{"error":{"code":"${code}"}}`);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const match = req.method === "POST" ? PATH.exec(req.url ?? "") : null;
    if (!match) return refuse(res, 404, "NOT_FOUND");
    const partnerId = match[1] as string;
    const key = keys.get(partnerId);
    if (!key) return refuse(res, 404, "PARTNER_NOT_FOUND");
    if (req.headers.origin !== undefined && req.headers.origin !== url) return refuse(res, 403, "ORIGIN_NOT_ALLOWED");
    let request: { token?: unknown; parentOrigin?: unknown };
    try {
      request = JSON.parse(body);
    } catch {
      return refuse(res, 400, "BAD_REQUEST");
    }
    if (typeof request.parentOrigin !== "string" || !options.origins[partnerId]?.includes(request.parentOrigin)) {
      return refuse(res, 403, "ORIGIN_NOT_ALLOWED");
    }
    const token = request.token;
    if (typeof token !== "string") return refuse(res, 400, "BAD_REQUEST");
    const first = token.indexOf(".");
    const last = token.lastIndexOf(".");
    if (first <= 0 || last === first) return refuse(res, 400, "TOKEN_MALFORMED");
    const signature = Buffer.from(token.slice(last + 1), "base64url");
    const mac = createHmac("sha256", key).update(token.slice(0, last)).digest();
    if (signature.length !== mac.length || !timingSafeEqual(signature, mac)) return refuse(res, 401, "TOKEN_SIGNATURE_INVALID");
    let header: { alg?: unknown };
    let claims: { iss?: unknown; aud?: unknown; sub?: unknown; iat?: unknown; exp?: unknown; jti?: unknown };
    try {
      header = JSON.parse(Buffer.from(token.slice(0, first), "base64url").toString());
      claims = JSON.parse(Buffer.from(token.slice(first + 1, last), "base64url").toString());
    } catch {
      return refuse(res, 400, "TOKEN_MALFORMED");
    }
    const now = Math.floor(Date.now() / 1000);
    if (header.alg !== "HS256" || claims.iss !== partnerId || claims.aud !== "jupid-embed") return refuse(res, 401, "TOKEN_CLAIM_INVALID");
    if (typeof claims.sub !== "string" || typeof claims.jti !== "string" || typeof claims.iat !== "number" || typeof claims.exp !== "number") {
      return refuse(res, 401, "TOKEN_CLAIM_INVALID");
    }
    if (now > claims.exp + 30 || claims.iat > now + 30) return refuse(res, 401, "TOKEN_EXPIRED");
    const jtiKey = `${partnerId}\u0000${claims.jti}`;
    if (used.has(jtiKey)) return refuse(res, 401, "TOKEN_REPLAYED");
    used.add(jtiKey);
    const userKey = `${partnerId}\u0000${claims.sub}`;
    let userId = users.get(userKey);
    const firstRun = userId === undefined;
    if (userId === undefined) {
      userId = `usr_${randomUUID().replaceAll("-", "")}`;
      users.set(userKey, userId);
    }
    const sessionId = randomBytes(32).toString("base64url");
    const expiresAt = now + options.sessionLifetimeSeconds;
    sessions.set(createHash("sha256").update(sessionId).digest("hex"), { userId, partnerId, expiresAt });
    res.writeHead(200, {
      "content-type": "application/json",
      "set-cookie": `jupid_session=${sessionId}; Max-Age=${options.sessionLifetimeSeconds}; Path=/; Secure; HttpOnly; SameSite=None; Partitioned`,
    });
    res.end(JSON.stringify({ redirectTo: firstRun ? "/app/welcome" : "/app/", firstRun, expiresAt: new Date(expiresAt * 1000).toISOString() }));
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => handle(req, res, Buffer.concat(chunks).toString("utf8")));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", () => resolveListen()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
