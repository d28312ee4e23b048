/**
 * The OpenID Connect entrypoint: Jupid is the relying party, the partner's
 * provider the OP. Protocol work is oauth4webapi's (discovery, PAR, PKCE,
 * authorisation-response and ID-token claim validation, client
 * authentication) and jose's (JWS signatures); this module decides policy.
 *
 * Login transactions are bound to the browser without server-side state
 * (ADR 0010): the `__Host-` cookie holds a random binding value, and `state`,
 * `nonce` and the PKCE verifier are hashes of it, `state` also covering the
 * partner, the target path and the start time. A callback is accepted only
 * in the browser that started the login, within {@link LOGIN_TRANSACTION_SECONDS}.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { errors as joseErrors, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { OIDC_SUBJECT_PREFIX, type OidcConfig, type PartnerConfig } from "../../config/schema.ts";
import type { Dependencies, JupidUser, PartnerRecord, Session } from "../ports/index.ts";
import { EmbedError } from "./errors.ts";
import { describeCause, type ProviderDirectory, providerUnavailable } from "./oidc-directory.ts";
import { resolveInitialPath, workspaceUrl } from "./paths.ts";
import { hashSessionId } from "./sessions.ts";
import type { GatewaySettings } from "./settings.ts";

/** How long a login may take from initiation to callback; also the cookie's Max-Age. */
export const LOGIN_TRANSACTION_SECONDS = 600;
/** Asymmetric algorithms only: an HS* token would be signed with our own client secret. */
export const SIGNING_ALGORITHMS: readonly string[] = ["RS256", "PS256", "ES256", "ES384", "ES512", "RS384", "RS512", "PS384", "PS512", "EdDSA", "Ed25519"];
const CLOCK_TOLERANCE_SECONDS = 30;
const MAX_SUB_LENGTH = 255;
const MAX_LOGIN_HINT_LENGTH = 512;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

export interface OidcContext {
  readonly deps: Dependencies;
  readonly settings: GatewaySettings;
  readonly directory: ProviderDirectory;
}

/** The partner's OIDC configuration, or OIDC_NOT_CONFIGURED. */
export function requireOidc(partner: PartnerConfig): OidcConfig {
  if (!partner.oidc) throw new EmbedError("OIDC_NOT_CONFIGURED", "this partner has no OpenID Connect sign-in");
  return partner.oidc;
}

/** Where the provider sends the browser back: one per partner, registered with the provider. */
export function redirectUri(settings: Pick<GatewaySettings, "appUrl">, partnerId: string): string {
  return `${settings.appUrl}/partner/${partnerId}/oidc/callback`;
}

/** The three URIs a partner registers for Jupid at its provider (docs, CLI and core derive them here). */
export function clientRegistrationUris(appUrl: string, partnerId: string) {
  return {
    redirectUri: redirectUri({ appUrl }, partnerId),
    initiateLoginUri: `${appUrl}/partner/${partnerId}/oidc/login`,
    backchannelLogoutUri: `${appUrl}/partner/${partnerId}/oidc/backchannel-logout`,
  };
}

// ── Login initiation ──────────────────────────────────────────────────────

export interface LoginRequest {
  readonly iss: string | undefined;
  readonly loginHint: string | undefined;
  readonly targetLinkUri: string | undefined;
}

export interface LoginStart {
  /** The provider's authorisation URL (with PAR: only client_id and request_uri). */
  readonly redirectTo: string;
  /** The transaction cookie's value; opaque to the browser, never logged. */
  readonly transaction: string;
}

/** OIDC Core §4, third-party-initiated login: check the request, then start a code flow with PKCE. */
export async function startLogin(ctx: OidcContext, partner: PartnerConfig, request: LoginRequest): Promise<LoginStart> {
  const oidc = requireOidc(partner);
  if (request.iss === undefined || request.iss === "") {
    throw new EmbedError("OIDC_ISSUER_MISMATCH", "iss is required: the issuer identifier of the partner's provider");
  }
  if (request.iss !== oidc.issuer) throw new EmbedError("OIDC_ISSUER_MISMATCH", "iss is not this partner's OpenID provider");
  if (request.loginHint !== undefined && request.loginHint.length > MAX_LOGIN_HINT_LENGTH) {
    throw new EmbedError("BAD_REQUEST", `login_hint must be at most ${MAX_LOGIN_HINT_LENGTH} characters`);
  }
  const target = resolveTargetLink(ctx.settings, partner, request.targetLinkUri);

  const server = await ctx.directory.server(oidc.issuer);
  const client = await clientOf(ctx, partner.id, oidc);
  const transaction: Transaction = {
    p: partner.id,
    b: randomBytes(32).toString("base64url"),
    t: target,
    iat: Math.floor(ctx.deps.clock() / 1000),
  };
  const derived = derive(transaction);
  const parameters = new URLSearchParams({
    client_id: oidc.clientId,
    redirect_uri: redirectUri(ctx.settings, partner.id),
    response_type: "code",
    scope: oidc.scopes.join(" "),
    state: derived.state,
    nonce: derived.nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(derived.verifier),
    code_challenge_method: "S256",
  });
  if (request.loginHint) parameters.set("login_hint", request.loginHint);
  if (oidc.maxAgeSeconds !== undefined) parameters.set("max_age", String(oidc.maxAgeSeconds));

  const authorizationUrl = new URL(server.authorization_endpoint as string);
  if (server.pushed_authorization_request_endpoint) {
    // PAR (RFC 9126): the parameters travel server to server, authenticated; the browser carries only a reference.
    const response = await providerCall("pushed authorisation request", () =>
      oauth.pushedAuthorizationRequest(server, client.client, client.auth, parameters, ctx.directory.requestOptions(oidc.issuer)),
    );
    const pushed = await providerCall("pushed authorisation response", () =>
      oauth.processPushedAuthorizationResponse(server, client.client, response),
    );
    authorizationUrl.searchParams.set("client_id", oidc.clientId);
    authorizationUrl.searchParams.set("request_uri", pushed.request_uri);
  } else {
    for (const [name, value] of parameters) authorizationUrl.searchParams.set(name, value);
  }
  return { redirectTo: authorizationUrl.href, transaction: encodeTransaction(transaction) };
}

/**
 * `target_link_uri` with the rules of `initialPath`: an app path, or an
 * absolute URL on the app origin (under the workspace base path, which is
 * stripped). Anything else can only leave the app and is refused.
 */
export function resolveTargetLink(settings: Pick<GatewaySettings, "appUrl" | "workspaceBasePath">, partner: PartnerConfig, target: string | undefined): string {
  if (target === undefined || target === "") return resolveInitialPath(undefined, partner);
  let path = target;
  if (!target.startsWith("/")) {
    // Compared as raw text: resolveInitialPath then sees exactly what the caller sent after the origin.
    if (!target.startsWith(`${settings.appUrl}/`)) {
      throw new EmbedError("PATH_NOT_ALLOWED", "target_link_uri must be a path or a URL on the Jupid app");
    }
    path = target.slice(settings.appUrl.length);
    const base = settings.workspaceBasePath;
    if (base && (path === base || path.startsWith(`${base}/`) || path.startsWith(`${base}?`) || path.startsWith(`${base}#`))) {
      path = path.slice(base.length);
      if (!path.startsWith("/")) path = `/${path}`;
    }
  }
  return resolveInitialPath(path, partner);
}

// ── Callback ──────────────────────────────────────────────────────────────

export interface CallbackRequest {
  /** Every query parameter of the callback URL. */
  readonly parameters: URLSearchParams;
  /** The transaction cookie of this browser, if any. */
  readonly transaction: string | undefined;
}

export interface OidcSignIn {
  /** For the session cookie; never logged, never in a URL. */
  readonly sessionId: string;
  readonly session: Session;
  readonly user: JupidUser;
  readonly firstRun: boolean;
  /** Relative URL on the app origin. */
  readonly redirectTo: string;
}

export async function finishLogin(ctx: OidcContext, partner: PartnerConfig, request: CallbackRequest): Promise<OidcSignIn> {
  const oidc = requireOidc(partner);
  const transaction = decodeTransaction(request.transaction, partner.id, ctx.deps.clock());
  const derived = derive(transaction);
  const server = await ctx.directory.server(oidc.issuer);
  const client = await clientOf(ctx, partner.id, oidc);

  // RFC 9207 `iss`, then `state` (bound to this browser), then error responses: oauth4webapi, mapped to our codes.
  let callback: URLSearchParams;
  try {
    callback = oauth.validateAuthResponse(server, client.client, request.parameters, derived.state);
  } catch (error) {
    throw authResponseError(error);
  }

  const tokenResponse = await providerCall("token request", () =>
    oauth.authorizationCodeGrantRequest(
      server,
      client.client,
      client.auth,
      callback,
      redirectUri(ctx.settings, partner.id),
      derived.verifier,
      ctx.directory.requestOptions(oidc.issuer),
    ),
  );
  let claims: oauth.IDToken;
  try {
    const result = await oauth.processAuthorizationCodeResponse(server, client.client, tokenResponse, {
      expectedNonce: derived.nonce,
      maxAge: oidc.maxAgeSeconds ?? oauth.skipAuthTimeCheck,
      requireIdToken: true,
    });
    claims = oauth.getValidatedIdTokenClaims(result) as oauth.IDToken;
    await verifySignature(ctx, oidc.issuer, result.id_token as string);
  } catch (error) {
    throw tokenResponseError(error);
  }

  const sub = claims.sub;
  if (sub.length === 0 || sub.length > MAX_SUB_LENGTH || CONTROL_CHARS.test(sub)) {
    throw new EmbedError("OIDC_TOKEN_INVALID", `the ID token's sub must be 1..${MAX_SUB_LENGTH} printable characters`, { claim: "sub" });
  }
  // The nonce is single use: an ID token (or its code) replayed into this browser's transaction is refused.
  const expiresAt = (typeof claims.exp === "number" ? claims.exp : transaction.iat + LOGIN_TRANSACTION_SECONDS) + CLOCK_TOLERANCE_SECONDS;
  if (!(await ctx.deps.replay.claim(partner.id, `oidc-nonce:${derived.nonce}`, expiresAt))) {
    throw new EmbedError("OIDC_TOKEN_INVALID", "this login was already completed; start again from the partner's app", { claim: "nonce" });
  }

  const now = ctx.deps.clock();
  const { user, created } = await ctx.deps.identities.recordLogin(
    {
      partnerId: partner.id,
      sub: storedSubject(oidc, sub),
      // Only a verified address; stored at creation only, never used to link accounts (ADR 0002).
      email: typeof claims.email === "string" && claims.email_verified !== false ? claims.email : undefined,
      name: typeof claims.name === "string" ? claims.name : undefined,
    },
    `usr_${randomUUID().replaceAll("-", "")}`,
    now,
  );
  const { sessionId, session } = await createOidcSession(ctx, partner, user.userId, now);
  return {
    sessionId,
    session,
    user,
    firstRun: created,
    redirectTo: workspaceUrl(ctx.settings.workspaceBasePath, created ? partner.firstRunPath : transaction.t),
  };
}

/** The `sub` stored for an OIDC login: the provider's own when the partner shares the subject space, else namespaced. */
export function storedSubject(oidc: Pick<OidcConfig, "subjects">, sub: string): string {
  return oidc.subjects === "shared" ? sub : `${OIDC_SUBJECT_PREFIX}${sub}`;
}

/**
 * A top-level session like the redirect entry's. Written here until the lead's
 * session rework gives both paths one function (core/sessions.ts).
 */
async function createOidcSession(ctx: OidcContext, partner: PartnerRecord, userId: string, now: number) {
  const sessionId = randomBytes(32).toString("base64url");
  const nowSeconds = Math.floor(now / 1000);
  const session: Session = {
    idHash: hashSessionId(sessionId),
    userId,
    partnerId: partner.id,
    shell: partner.shell.mode,
    chat: partner.shell.chat,
    createdAt: nowSeconds,
    expiresAt: nowSeconds + ctx.settings.sessionLifetimeSeconds,
    lastSeenAt: nowSeconds,
    epoch: partner.sessionEpoch ?? 0,
  };
  await ctx.deps.sessions.put(session);
  return { sessionId, session };
}

// ── Back-channel logout ───────────────────────────────────────────────────

/** OIDC Back-Channel Logout 1.0 §2.6: validate the logout token, then end the user's sessions at this partner. */
export async function backchannelLogout(ctx: OidcContext, partner: PartnerConfig, logoutToken: string | undefined): Promise<{ ended: number }> {
  const oidc = requireOidc(partner);
  if (!logoutToken) throw new EmbedError("BAD_REQUEST", "logout_token is required");
  await ctx.directory.server(oidc.issuer);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await ctx.directory.withKeys(oidc.issuer, (keys) =>
      jwtVerify(logoutToken, keys, {
        issuer: oidc.issuer,
        audience: oidc.clientId,
        algorithms: [...SIGNING_ALGORITHMS],
        requiredClaims: ["iat", "jti", "events"],
        currentDate: new Date(ctx.deps.clock()),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        maxTokenAge: LOGIN_TRANSACTION_SECONDS,
      }),
    ));
  } catch (error) {
    if (error instanceof EmbedError) throw error;
    throw new EmbedError("OIDC_TOKEN_INVALID", `the logout token is not valid (${joseReason(error)})`, joseClaim(error));
  }
  const events = payload.events;
  if (typeof events !== "object" || events === null || typeof (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] !== "object") {
    throw new EmbedError("OIDC_TOKEN_INVALID", `the logout token's events must contain ${BACKCHANNEL_LOGOUT_EVENT}`, { claim: "events" });
  }
  if (payload.nonce !== undefined) throw new EmbedError("OIDC_TOKEN_INVALID", "a logout token must not contain a nonce", { claim: "nonce" });
  const sub = payload.sub;
  if (typeof sub !== "string" || sub.length === 0) {
    // Jupid keys sessions by user, not by the provider's session id.
    throw new EmbedError("OIDC_TOKEN_INVALID", "the logout token must contain sub (Jupid ends every session of that user)", { claim: "sub" });
  }
  const jti = payload.jti as string;
  const until = (typeof payload.exp === "number" ? payload.exp : (payload.iat as number) + LOGIN_TRANSACTION_SECONDS) + CLOCK_TOLERANCE_SECONDS;
  if (!(await ctx.deps.replay.claim(partner.id, `oidc-logout:${jti}`, until))) {
    throw new EmbedError("OIDC_TOKEN_INVALID", "this logout token was already used", { claim: "jti" });
  }
  const userId = await ctx.deps.identities.findUserId(partner.id, storedSubject(oidc, sub));
  if (userId === undefined) return { ended: 0 };
  return { ended: await ctx.deps.sessions.deleteForUser(partner.id, userId) };
}

// ── Pieces ────────────────────────────────────────────────────────────────

interface Transaction {
  /** Partner id. */
  readonly p: string;
  /** The browser binding: 32 random bytes, base64url. */
  readonly b: string;
  /** The validated target app path. */
  readonly t: string;
  /** Start, epoch seconds. */
  readonly iat: number;
}

function sha256(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("base64url");
}

/** state, nonce and verifier from the binding (OIDC Core §15.5.2: the nonce as a hash of a cookie value). */
function derive(transaction: Transaction) {
  return {
    state: sha256("state", transaction.b, transaction.p, transaction.t, String(transaction.iat)),
    nonce: sha256("nonce", transaction.b),
    // 43 base64url characters: a valid RFC 7636 code_verifier with 256 bits of entropy.
    verifier: sha256("pkce", transaction.b),
  };
}

function encodeTransaction(transaction: Transaction): string {
  return Buffer.from(JSON.stringify(transaction)).toString("base64url");
}

function decodeTransaction(value: string | undefined, partnerId: string, now: number): Transaction {
  const missing = () =>
    new EmbedError("OIDC_STATE_MISMATCH", "no sign-in was started in this browser (or it was started for another partner); start again from the partner's app");
  if (!value || value.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(value)) throw missing();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
  } catch {
    throw missing();
  }
  const t = parsed as Partial<Transaction> | null;
  if (
    typeof t !== "object" ||
    t === null ||
    typeof t.p !== "string" ||
    typeof t.b !== "string" ||
    !/^[A-Za-z0-9_-]{43}$/.test(t.b) ||
    typeof t.t !== "string" ||
    !Number.isSafeInteger(t.iat)
  ) {
    throw missing();
  }
  if (t.p !== partnerId) throw missing();
  const age = Math.floor(now / 1000) - (t.iat as number);
  if (age > LOGIN_TRANSACTION_SECONDS || age < -CLOCK_TOLERANCE_SECONDS) {
    throw new EmbedError("OIDC_STATE_MISMATCH", "the sign-in took too long; start again from the partner's app");
  }
  return t as Transaction;
}

async function clientOf(ctx: OidcContext, partnerId: string, oidc: OidcConfig): Promise<{ client: oauth.Client; auth: oauth.ClientAuth }> {
  const secret = await ctx.deps.secrets.getOidcClientSecret(partnerId);
  if (secret === undefined) {
    // Jupid's configuration is incomplete, not the caller's request: reported as the provider side being unusable.
    throw providerUnavailable("no OIDC client secret is stored for this partner (jupid-embed secret rotate --kind oidc)");
  }
  const client: oauth.Client = {
    client_id: oidc.clientId,
    // The injected clock (frozen in tests) also drives oauth4webapi's exp/iat/auth_time checks.
    [oauth.clockSkew]: Math.round((ctx.deps.clock() - Date.now()) / 1000),
    [oauth.clockTolerance]: CLOCK_TOLERANCE_SECONDS,
  };
  const auth = oidc.clientAuth === "client_secret_post" ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret);
  return { client, auth };
}

/** Any failure to talk to the provider, or a non-conforming answer from it, is OIDC_PROVIDER_UNAVAILABLE. */
async function providerCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof EmbedError) throw error;
    throw providerUnavailable(`the partner's OpenID provider failed the ${what} (${describeCause(error)})`, error);
  }
}

function authResponseError(error: unknown): EmbedError {
  if (error instanceof oauth.AuthorizationResponseError) {
    // error_description is provider text relayed by the browser: only the registered code is shown.
    const code = /^[a-z_]{1,64}$/.test(error.error) ? error.error : "error";
    return new EmbedError("OIDC_LOGIN_REFUSED", `the partner's OpenID provider did not sign you in (${code})`);
  }
  if (error instanceof oauth.OperationProcessingError) {
    if (/"iss"/.test(error.message)) {
      return new EmbedError("OIDC_ISSUER_MISMATCH", "the callback's iss is missing or not this partner's OpenID provider (RFC 9207)");
    }
    if (/"state"/.test(error.message)) {
      return new EmbedError("OIDC_STATE_MISMATCH", "the callback's state does not belong to the sign-in started in this browser");
    }
  }
  return new EmbedError("BAD_REQUEST", "the callback is not a valid authorisation response");
}

const CLAIM_CODES = new Set<string>([oauth.JWT_CLAIM_COMPARISON, oauth.JWT_TIMESTAMP_CHECK]);

function tokenResponseError(error: unknown): EmbedError {
  if (error instanceof EmbedError) return error;
  if (error instanceof oauth.ResponseBodyError) {
    // invalid_grant: the code is unknown, used or not this client's — what a replayed or forged callback yields.
    if (error.error === "invalid_grant") return new EmbedError("OIDC_TOKEN_INVALID", "the provider refused the authorisation code (used, expired or not ours)");
    return providerUnavailable(`the partner's OpenID provider refused the token request (${/^[a-z_]{1,64}$/.test(error.error) ? error.error : "error"})`, error);
  }
  if (error instanceof oauth.OperationProcessingError && CLAIM_CODES.has(error.code ?? "")) {
    const claim = (error.cause as { claim?: unknown } | undefined)?.claim;
    return new EmbedError("OIDC_TOKEN_INVALID", `the ID token is not valid (${error.message})`, typeof claim === "string" ? { claim } : {});
  }
  if (error instanceof joseErrors.JOSEError) {
    return new EmbedError("OIDC_TOKEN_INVALID", `the ID token is not valid (${joseReason(error)})`);
  }
  if (error instanceof oauth.OperationProcessingError && error.code === oauth.INVALID_RESPONSE && /nonce|auth_time|id_token/.test(error.message)) {
    return new EmbedError("OIDC_TOKEN_INVALID", `the ID token is not valid (${error.message})`);
  }
  return providerUnavailable(`the partner's OpenID provider answered the token request unusably (${describeCause(error)})`, error);
}

/** The ID token's JWS signature against the provider's JWKS (oauth4webapi validates its claims, jose its signature). */
async function verifySignature(ctx: OidcContext, issuer: string, idToken: string): Promise<void> {
  const server = await ctx.directory.server(issuer);
  const advertised = server.id_token_signing_alg_values_supported;
  const algorithms = advertised ? SIGNING_ALGORITHMS.filter((alg) => advertised.includes(alg)) : ["RS256"];
  await ctx.directory.withKeys(issuer, async (keys) => {
    await jwtVerify(idToken, keys, { algorithms, currentDate: new Date(ctx.deps.clock()), clockTolerance: CLOCK_TOLERANCE_SECONDS });
  });
}

function joseReason(error: unknown): string {
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "signed with a key the provider does not publish";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "signature does not verify";
  if (error instanceof joseErrors.JWTExpired) return "expired";
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim ${error.claim}: ${error.reason}`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "signing algorithm not allowed";
  if (error instanceof joseErrors.JOSEError) return error.code;
  return "malformed";
}

function joseClaim(error: unknown): { claim?: string } {
  if (error instanceof joseErrors.JWTExpired || error instanceof joseErrors.JWTClaimValidationFailed) return { claim: error.claim };
  return {};
}
