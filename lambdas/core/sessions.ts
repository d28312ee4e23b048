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
}

export interface SignInResult {
  /** The session id for the cookie; never logged, never in a URL. */
  readonly sessionId: string;
  readonly session: Session;
  readonly user: JupidUser;
  readonly firstRun: boolean;
  /** Relative URL on the app origin. */
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
  if (!(await deps.replay.claim(partner.id, claims.jti, replayWindowEnd(claims)))) {
    throw new EmbedError("TOKEN_REPLAYED", "this token has already been used; mint a fresh one per sign-in");
  }

  const { user, created } = await deps.identities.recordLogin(
    { partnerId: partner.id, sub: claims.sub, email: claims.email, name: claims.name, payload: claims.payload },
    newUserId(),
    now,
  );

  const sessionId = randomBytes(32).toString("base64url");
  const nowSeconds = Math.floor(now / 1000);
  const session: Session = {
    idHash: hashSessionId(sessionId),
    userId: user.userId,
    partnerId: partner.id,
    ...shell,
    createdAt: nowSeconds,
    expiresAt: nowSeconds + settings.sessionLifetimeSeconds,
    epoch: partner.sessionEpoch ?? 0,
  };
  await deps.sessions.put(session);

  return {
    sessionId,
    session,
    user,
    firstRun: created,
    redirectTo: workspaceUrl(settings.workspaceBasePath, created ? partner.firstRunPath : path),
  };
}

/** The live session behind a cookie value, or undefined. Never throws for a bad value. */
export async function findSession(deps: Pick<Dependencies, "sessions" | "clock">, sessionId: string | undefined) {
  if (!sessionId || !/^[A-Za-z0-9_-]{43}$/.test(sessionId)) return undefined;
  return deps.sessions.get(hashSessionId(sessionId), deps.clock());
}

/** Sessions are stored under the SHA-256 of their id: a read of the table yields no usable cookie. */
export function hashSessionId(sessionId: string): string {
  return createHash("sha256").update(sessionId).digest("hex");
}

function newUserId(): string {
  return `usr_${randomUUID().replaceAll("-", "")}`;
}
