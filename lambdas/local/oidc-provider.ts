/**
 * A real OpenID provider on loopback, for `npm start` (the demo partner's
 * "Sign in to Jupid with Acme") and for the tests: panva's oidc-provider
 * (OpenID-certified, a dev dependency: never in a Lambda bundle) on
 * 127.0.0.1, with one confidential client registered for Jupid and a tiny
 * login page. Tests script the next login (`provider.nextLogin = "alice"`)
 * or a browser fills the form; the harness keeps the provider's private key
 * so a test can mint tokens the provider would never send (expired, wrong
 * audience, unknown key) with a signature that is otherwise genuine.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import Provider from "oidc-provider";

export interface LocalAccount {
  readonly email?: string;
  readonly name?: string;
}

export interface LocalProviderOptions {
  /** The Jupid origin the client's URIs point to. */
  readonly appUrl: string;
  readonly partnerId: string;
  readonly clientId?: string;
  /** Advertise and accept pushed authorisation requests. @default true */
  readonly par?: boolean;
  readonly tokenEndpointAuthMethod?: "client_secret_basic" | "client_secret_post";
  readonly accounts?: Readonly<Record<string, LocalAccount>>;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
}

export interface LocalProvider {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly provider: Provider;
  /** Account the next login interaction signs in without showing the form; cleared when used. */
  nextLogin: string | undefined;
  /** How many login interactions completed. */
  readonly logins: number;
  /** Sign a JWT with the provider's own key (or `kid`'s other key), as the provider would. */
  sign(payload: JWTPayload, options?: { kid?: string; typ?: string; key?: "provider" | "stranger" }): Promise<string>;
  /** Make the provider send a back-channel logout token for `sub` to Jupid, as its end_session would. */
  backchannelLogout(sub: string): Promise<void>;
  /** Stop listening (the provider is "down"); `start` again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalProvider(options: LocalProviderOptions): Promise<LocalProvider> {
  const clientId = options.clientId ?? `jupid-${options.partnerId}`;
  const clientSecret = randomBytes(32).toString("base64url");
  const accounts = options.accounts ?? {};
  const { privateKey, publicKey: _publicKey } = await generateKeyPair("RS256", { extractable: true });
  const stranger = await generateKeyPair("RS256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid: "provider-key-1", alg: "RS256", use: "sig" };

  let server: Server = createServer();
  await listen(server, options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const base = `${options.appUrl}/partner/${options.partnerId}/oidc`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [`${base}/callback`],
        response_types: ["code"],
        grant_types: ["authorization_code"],
        token_endpoint_auth_method: options.tokenEndpointAuthMethod ?? "client_secret_basic",
        backchannel_logout_uri: `${base}/backchannel-logout`,
        backchannel_logout_session_required: false,
        // oidc-provider requires an https initiate_login_uri; the loopback gateway is http.
        ...(base.startsWith("https://") ? { initiate_login_uri: `${base}/login` } : {}),
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(16).toString("hex")] },
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: options.par ?? true, requirePushedAuthorizationRequests: false },
      backchannelLogout: { enabled: true },
    },
    pkce: { required: () => true },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, email: accounts[sub]?.email, email_verified: accounts[sub]?.email !== undefined, name: accounts[sub]?.name }),
    }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // Claims in the ID token itself, as most hosted providers do (Jupid reads no userinfo).
    conformIdTokenClaims: false,
    // The provider's SSRF guard refuses loopback; here Jupid is on loopback, so its back channel goes without it.
    fetch: (url, init) => {
      const { dispatcher: _guard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(url, rest);
    },
    renderError: async (ctx, out) => {
      ctx.type = "html";
      ctx.body = `<!doctype html><title>provider error</title><p id="error">${String(out.error)}</p>`;
    },
  });

  const state = { nextLogin: undefined as string | undefined, logins: 0 };

  async function finish(req: IncomingMessage, res: ServerResponse, accountId: string) {
    const details = await provider.interactionDetails(req, res);
    const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope ?? "openid"));
    const grantId = await grant.save();
    state.logins++;
    await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  const providerCallback = provider.callback();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", issuer);
    const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(url.pathname);
    if (!match) return void providerCallback(req, res);
    (async () => {
      if (req.method === "POST" && match[2]) {
        const body = new URLSearchParams(await readBody(req));
        return finish(req, res, body.get("login") || "anonymous");
      }
      if (state.nextLogin !== undefined) {
        const account = state.nextLogin;
        state.nextLogin = undefined;
        return finish(req, res, account);
      }
      await provider.interactionDetails(req, res);
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(
        `<!doctype html><title>Acme ID</title><h1>Acme ID</h1><form method="post" action="/interaction/${match[1]}/login"><label>User <input name="login" id="login"></label><button id="sign-in">Sign in</button></form>`,
      );
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`interaction failed: ${(error as Error).message}`);
    });
  };
  server.on("request", handle);

  const stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    issuer,
    clientId,
    clientSecret,
    provider,
    get nextLogin() {
      return state.nextLogin;
    },
    set nextLogin(value) {
      state.nextLogin = value;
    },
    get logins() {
      return state.logins;
    },
    async sign(payload, signOptions = {}) {
      const key = signOptions.key === "stranger" ? stranger.privateKey : privateKey;
      return new SignJWT(payload)
        .setProtectedHeader({ alg: "RS256", kid: signOptions.kid ?? jwk.kid, ...(signOptions.typ ? { typ: signOptions.typ } : {}) })
        .sign(key);
    },
    async backchannelLogout(sub) {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error("test client is not registered");
      await (client as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> }).backchannelLogout(sub, "no-sid");
    },
    stop,
    async start() {
      server = createServer(handle);
      await listen(server, port);
    },
    async close() {
      if (server.listening) await stop();
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
