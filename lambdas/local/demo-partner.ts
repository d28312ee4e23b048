/**
 * The demo partner site: a stand-in for a partner's web app on a second
 * origin (PARTNER_PORT, default 3000). It shows the whole integration a
 * partner builds, and doubles as the copy-paste example:
 *
 * - a login stub (the partner's own sign-in; any name and email),
 * - `GET /api/jupid/embed-token`: mints the Jupid token on the server, with
 *   the partner secret, for the logged-in user only ({@link mintEmbedToken}),
 * - a page (sdk/examples/demo-partner/) that loads embed.js from the Jupid app
 *   and mounts the workspace with `getToken`, listing the SDK events live.
 *
 * The page is served with a strict CSP (no inline script) to show that the
 * SDK needs nothing more than `script-src` and `frame-src` for the app origin.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { SignJWT } from "jose";

export const DEMO_PARTNER_DIR = join(import.meta.dirname, "..", "..", "sdk", "examples", "demo-partner");

export interface DemoPartnerOptions {
  /** 0 picks a free port. @default 3000 */
  readonly port?: number;
  /** @default "localhost" (a different origin from the gateway's 127.0.0.1) */
  readonly host?: string;
  /** Origin of the Jupid app (the local gateway): embed.js comes from there. */
  readonly gatewayUrl: string;
  readonly partnerId: string;
  /** The partner's signing secret; stays on this server. */
  readonly secret: string;
  /** Jupid's OIDC login initiation for this partner (npm start's local provider); no link when absent. */
  readonly oidcLoginUrl?: string;
}

export interface RunningDemoPartner {
  /** e.g. http://localhost:3000 */
  readonly url: string;
  close(): Promise<void>;
}

/** The partner's user, as its own login knows it. */
export interface PartnerUser {
  /** Stable id in the partner's system: the token's `sub`. */
  readonly id: string;
  readonly email: string;
  readonly name: string;
}

/**
 * What a partner's token endpoint does: sign a short-lived HS256 JWT for the
 * logged-in user with the partner secret (UTF-8 bytes of the string). One
 * token per sign-in (`jti` is single use), valid for 5 minutes.
 */
export async function mintEmbedToken(partnerId: string, secret: string, user: PartnerUser): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ email: user.email, name: user.name, payload: { plan: "pro", source: "demo-partner" } })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(partnerId)
    .setAudience("jupid-embed")
    .setSubject(user.id)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .setJti(randomUUID())
    .sign(new TextEncoder().encode(secret));
}

const COOKIE = "acme_session";
const MAX_FORM_BYTES = 4 * 1024;

export async function startDemoPartner(options: DemoPartnerOptions): Promise<RunningDemoPartner> {
  const host = options.host ?? "localhost";
  const gatewayUrl = new URL(options.gatewayUrl).origin;
  const oidcLink = { OIDC_LOGIN_URL: options.oidcLoginUrl ?? "", OIDC_CLASS: options.oidcLoginUrl ? "" : "hidden" };
  /** The login stub's sessions: random id -> user. */
  const sessions = new Map<string, PartnerUser>();
  const file = (name: string) => readFileSync(join(DEMO_PARTNER_DIR, name), "utf8");

  const headers = (contentType: string, extra: Record<string, string> = {}) => ({
    "Content-Type": contentType,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    ...extra,
  });
  const pageCsp = [
    "default-src 'self'",
    `script-src 'self' ${gatewayUrl}`,
    `frame-src ${gatewayUrl}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");

  const currentUser = (req: IncomingMessage) => {
    const id = /(?:^|;\s*)acme_session=([A-Za-z0-9_-]{43})/.exec(req.headers.cookie ?? "")?.[1];
    return id ? sessions.get(id) : undefined;
  };
  const redirect = (res: ServerResponse, location: string, cookie?: string) => {
    res.writeHead(303, { Location: location, "Cache-Control": "no-store", ...(cookie ? { "Set-Cookie": cookie } : {}) });
    res.end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://demo.invalid");
    const route = `${req.method} ${url.pathname}`;
    const user = currentUser(req);

    if (route === "GET /") {
      const page = user
        ? fill(file("index.html"), {
            GATEWAY_URL: gatewayUrl,
            PARTNER_ID: options.partnerId,
            USER_NAME: user.name,
            USER_EMAIL: user.email,
            ...oidcLink,
          })
        : fill(file("login.html"), { GATEWAY_URL: gatewayUrl, PARTNER_ID: options.partnerId, ...oidcLink });
      res.writeHead(200, headers("text/html; charset=utf-8", { "Content-Security-Policy": pageCsp }));
      return void res.end(page);
    }
    if (route === "GET /app.js" || route === "GET /styles.css") {
      const type = url.pathname.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
      res.writeHead(200, headers(type));
      return void res.end(file(url.pathname.slice(1)));
    }
    if (route === "POST /login") {
      const form = new URLSearchParams(await readBody(req));
      const email = (form.get("email") ?? "").trim().toLowerCase().slice(0, 200);
      const name = (form.get("name") ?? "").trim().slice(0, 100);
      if (!email.includes("@") || !name) return redirect(res, "/");
      const id = randomBytes(32).toString("base64url");
      // A stable partner-side user id; never the email itself, which a user can change.
      sessions.set(id, { id: `acme-${createHash("sha256").update(email).digest("hex").slice(0, 16)}`, email, name });
      return redirect(res, "/", `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`);
    }
    if (route === "POST /logout") {
      const id = /(?:^|;\s*)acme_session=([A-Za-z0-9_-]{43})/.exec(req.headers.cookie ?? "")?.[1];
      if (id) sessions.delete(id);
      return redirect(res, "/", `${COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`);
    }
    if (route === "GET /api/jupid/embed-token") {
      // Only for this site's own pages (the browser says so), and only for a logged-in user.
      const site = req.headers["sec-fetch-site"];
      if (site !== undefined && site !== "same-origin") return json(res, 403, { error: "forbidden" });
      if (!user) return json(res, 401, { error: "log in first" });
      return json(res, 200, { token: await mintEmbedToken(options.partnerId, options.secret, user) });
    }
    json(res, 404, { error: "not found" });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) json(res, 500, { error: "internal error" });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 3000, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
  res.end(JSON.stringify(body));
}

/** Replace `{{NAME}}` placeholders with HTML-escaped values. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) =>
    (values[key] ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`),
  );
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      text += chunk;
      if (text.length > MAX_FORM_BYTES) req.destroy(new Error("form too large"));
    });
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });
}
