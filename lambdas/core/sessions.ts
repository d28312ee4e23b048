/**
 * Sign-in: a verified partner token becomes a Jupid session.
 *
 * The data path goes down once: partner -> request checks -> token policy ->
 * replay guard -> identity mapping -> session -> where to send the user.
 * Every check that can refuse the request runs before anything is written,
 * so a refused request changes nothing (not even the jti).
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { PartnerConfig, ShellMode } from "../../config/schema.ts";
import { PARTNER_ID_PATTERN, SHELL_MODES } from "../../config/schema.ts";
import type { Dependencies, JupidUser, PartnerRecord, PartnerStore, Session } from "../ports/index.ts";
import { dpopCredential, proofReplayScope, verifyProof } from "./dpop.ts";
import { EmbedError } from "./errors.ts";
import { resolveInitialPath, workspaceUrl } from "./paths.ts";
import type { GatewaySettings } from "./settings.ts";
import { replayWindowEnd, verifyPartnerToken } from "./token-policy.ts";

export interface SignInRequest {
  /** From {@link requirePartner}: known and enabled. */
  readonly partner: PartnerRecord;
  readonly token: unknown;
  /**
   * The partner page's origin: the frame reports its parent (iframe path),
   * a browser's `Origin` header (redirect path). Undefined when the redirect
   * path is entered by a top-level navigation, which carries no origin.
   */
  readonly origin?: string;
  readonly initialPath?: unknown;
  readonly shell?: unknown;
  readonly chat?: unknown;
  /** Frame sign-in: the thumbprint of the frame's DPoP key, which the session is bound to. */
  readonly jkt?: string;
}

export interface SignInResult {
  /** The session id for the cookie; never logged, never in a URL. */
  readonly sessionId: string;
  readonly session: Session;
  /** Who signed in: the name is this login's (stored on every login), the email the first login's. */
  readonly user: Pick<JupidUser, "userId" | "partnerId" | "sub" | "name" | "email">;
  readonly firstRun: boolean;
  /** The app path the user is sent to: the first-run path for a new user, else the requested one. */
  readonly path: string;
  /** Relative URL of that path in the top-level workspace on the app origin. */
  readonly redirectTo: string;
}

/** The partner, or PARTNER_NOT_FOUND / PARTNER_DISABLED. */
export async function requirePartner(deps: { readonly partners: Pick<PartnerStore, "get"> }, partnerId: string): Promise<PartnerRecord> {
  const partner = PARTNER_ID_PATTERN.test(partnerId) ? await deps.partners.get(partnerId) : undefined;
  if (!partner) throw new EmbedError("PARTNER_NOT_FOUND", "no such partner");
  if (!partner.enabled) throw new EmbedError("PARTNER_DISABLED", "this partner is disabled");
  return partner;
}

export function checkOrigin(partner: PartnerConfig, origin: string | undefined): void {
  if (origin !== undefined && !partner.allowedOrigins.includes(origin)) {
    throw new EmbedError("ORIGIN_NOT_ALLOWED", "this page's origin is not allowed for the partner");
  }
}

/** The shell the session gets: partner defaults, overridden only where the partner allows it. */
export function resolveShell(partner: PartnerConfig, shell: unknown, chat: unknown): { shell: ShellMode; chat: boolean } {
  if (shell !== undefined && !(SHELL_MODES as readonly unknown[]).includes(shell)) {
    throw new EmbedError("BAD_REQUEST", `shell must be one of ${SHELL_MODES.join(", ")}`);
  }
  if (chat !== undefined && typeof chat !== "boolean") throw new EmbedError("BAD_REQUEST", "chat must be a boolean");
  const { mode, chat: chatDefault, allowOverride } = partner.shell;
  return {
    shell: shell !== undefined && allowOverride.mode ? (shell as ShellMode) : mode,
    chat: chat !== undefined && allowOverride.chat ? (chat as boolean) : chatDefault,
  };
}

export async function signIn(deps: Dependencies, settings: GatewaySettings, request: SignInRequest): Promise<SignInResult> {
  const { partner } = request;
  checkOrigin(partner, request.origin);
  const path = resolveInitialPath(request.initialPath, partner);
  const shell = resolveShell(partner, request.shell, request.chat);

  const now = deps.clock();
  const keys = await deps.secrets.getKeys(partner.id);
  const claims = await verifyPartnerToken(request.token, partner, keys, now);
  const sessionId = randomBytes(32).toString("base64url");
  const nowSeconds = Math.floor(now / 1000);
  // Claim the jti, map the login, store the session: one unit (two DynamoDB calls), all or nothing.
  const outcome = await deps.signIns.recordSignIn({
    replay: { jti: claims.jti, expiresAt: replayWindowEnd(claims) },
    login: { partnerId: partner.id, sub: claims.sub, email: claims.email, name: claims.name, payload: claims.payload },
    newUserId: newUserId(),
    now,
    session: {
      idHash: hashSessionId(sessionId),
      partnerId: partner.id,
      ...shell,
      createdAt: nowSeconds,
      expiresAt: nowSeconds + settings.sessionLifetimeSeconds,
      lastSeenAt: nowSeconds,
      epoch: partner.sessionEpoch ?? 0,
      ...(request.jkt ? { jkt: request.jkt } : {}),
    },
  });
  if (outcome.kind === "replayed") {
    throw new EmbedError("TOKEN_REPLAYED", "this token has already been used; mint a fresh one per sign-in");
  }
  const { user, created, session } = outcome;

  return {
    sessionId,
    session,
    user: { ...user, ...(claims.name === undefined ? {} : { name: claims.name }) },
    firstRun: created,
    path: created ? partner.firstRunPath : path,
    redirectTo: workspaceUrl(settings.workspaceBasePath, created ? partner.firstRunPath : path),
  };
}

/** A use refreshes `lastSeenAt` at most this often, so that reading a session is not a write each time. */
export const TOUCH_INTERVAL_SECONDS = 60;

type SessionDeps = Pick<Dependencies, "sessions" | "clock">;
type IdleSettings = Pick<GatewaySettings, "sessionIdleTimeoutSeconds">;

/**
 * The live session behind a credential (cookie value or frame credential), or
 * undefined: unknown, past its lifetime, or idle longer than the idle timeout.
 * A found session counts as used (its idle timer restarts). Never throws for a bad value.
 */
export async function findSession(deps: SessionDeps, settings: IdleSettings, sessionId: string | undefined): Promise<Session | undefined> {
  if (!sessionId || !/^[A-Za-z0-9_-]{43}$/.test(sessionId)) return undefined;
  const session = await deps.sessions.get(hashSessionId(sessionId), deps.clock());
  if (!session) return undefined;
  const nowSeconds = Math.floor(deps.clock() / 1000);
  if (session.lastSeenAt + settings.sessionIdleTimeoutSeconds <= nowSeconds) return undefined;
  if (nowSeconds - session.lastSeenAt >= TOUCH_INTERVAL_SECONDS) {
    await deps.sessions.touch(session.idHash, nowSeconds);
    return { ...session, lastSeenAt: nowSeconds };
  }
  return session;
}

export interface FrameRequest {
  /** The `Authorization` header: `DPoP <credential>`. */
  readonly authorization: string | undefined;
  /** The `DPoP` header. */
  readonly proof: string | undefined;
  readonly method: string;
  /** Absolute URL the browser called (query and fragment are ignored). */
  readonly url: string;
}

/**
 * The frame session a request is made with, proven by its DPoP proof:
 * the proof verifies, is for this method, URL and credential, is signed by
 * the key the session is bound to, and has not been seen before. A credential
 * without its key, a cookie session presented as a frame credential, a stale,
 * forged or replayed proof: all refused, and nothing changes.
 */
export async function authenticateFrameRequest(
  deps: Pick<Dependencies, "sessions" | "replay" | "clock">,
  settings: IdleSettings,
  request: FrameRequest,
): Promise<Session> {
  const credential = dpopCredential(request.authorization);
  if (!credential) throw new EmbedError("SESSION_REQUIRED", "this request needs Authorization: DPoP <session>");
  const proof = await verifyProof({ proof: request.proof, method: request.method, url: request.url, now: deps.clock(), credential });
  const session = await findSession(deps, settings, credential);
  if (!session?.jkt) throw new EmbedError("SESSION_REQUIRED", "no live frame session with this credential");
  if (session.jkt !== proof.jkt) throw new EmbedError("DPOP_PROOF_INVALID", "the DPoP proof is not signed by the session's key");
  if (!(await deps.replay.claim(proofReplayScope(proof.jkt), proof.jti, proof.replayWindowEnd))) {
    throw new EmbedError("DPOP_PROOF_REPLAYED", "this DPoP proof has already been used; sign a fresh one per request");
  }
  return session;
}

/** Sessions are stored under the SHA-256 of their id: a read of the table yields no usable cookie. */
export function hashSessionId(sessionId: string): string {
  return createHash("sha256").update(sessionId).digest("hex");
}

/** What the framed workspace shows and the Jupid app needs about a session: never the credential. */
export interface SessionView {
  readonly user: { readonly userId: string; readonly sub: string; readonly name?: string; readonly email?: string };
  readonly partner: { readonly id: string; readonly branding: PartnerConfig["branding"] };
  readonly shell: ShellMode;
  readonly chat: boolean;
  /** ISO time the session ends at the latest. */
  readonly expiresAt: string;
  /** Seconds of inactivity after which the session ends. */
  readonly idleTimeoutSeconds: number;
  /** ISO time the session ends if it is not used again before. */
  readonly idleExpiresAt: string;
}

export function sessionView(
  session: Session,
  user: Pick<JupidUser, "userId" | "sub" | "name" | "email">,
  partner: PartnerConfig,
  settings: IdleSettings,
): SessionView {
  return {
    user: { userId: user.userId, sub: user.sub, ...(user.name ? { name: user.name } : {}), ...(user.email ? { email: user.email } : {}) },
    partner: { id: partner.id, branding: partner.branding },
    shell: session.shell,
    chat: session.chat,
    expiresAt: new Date(session.expiresAt * 1000).toISOString(),
    idleTimeoutSeconds: settings.sessionIdleTimeoutSeconds,
    idleExpiresAt: new Date((session.lastSeenAt + settings.sessionIdleTimeoutSeconds) * 1000).toISOString(),
  };
}

function newUserId(): string {
  return `usr_${randomUUID().replaceAll("-", "")}`;
}
