/**
 * The interfaces the core needs from the outside world. Every port has an
 * in-memory adapter (local default and test double) and an AWS adapter
 * (DynamoDB / Secrets Manager); test/contract runs one suite against both.
 */
import type { PartnerConfig, ShellMode } from "../../config/schema.ts";

/** A partner record: its config (written from config/partners.<env>.json at deploy) plus run-time state. */
export interface PartnerRecord extends PartnerConfig {
  /**
   * Sessions created under a lower epoch are refused (lambdas/core/session-validity.ts).
   * Bumped by {@link PartnerStore.revokeSessions} and whenever a deploy writes the
   * partner disabled; absent on records written before it existed, which means 0.
   */
  readonly sessionEpoch?: number;
}

/** Partner records by id. */
export interface PartnerStore {
  get(partnerId: string): Promise<PartnerRecord | undefined>;
  /**
   * Operator action (`jupid-embed partners revoke-sessions`): bump the
   * partner's session epoch so that every existing session of the partner is
   * refused; returns the new epoch. Rejects for a partner without a record.
   * Warm gateways see the new epoch within `cacheSeconds`.
   */
  revokeSessions(partnerId: string): Promise<number>;
}

/** One HMAC key of a partner. `secret` is the exact string handed to the partner. */
export interface PartnerKey {
  /** Selects this key when a token header carries `kid`. */
  readonly kid: string;
  readonly secret: string;
  readonly stage: "current" | "previous";
  /** Epoch seconds after which a previous key is no longer accepted; absent = no end. */
  readonly notAfter?: number;
}

/** Partner signing keys: current first, then previous (during a rotation). */
export interface PartnerSecrets {
  getKeys(partnerId: string): Promise<readonly PartnerKey[]>;
  /**
   * The client secret Jupid authenticates with at the partner's OpenID
   * provider (`oidc.clientAuth` client_secret_basic/post), or undefined when
   * none is stored. Never logged, never in an error.
   */
  getOidcClientSecret(partnerId: string): Promise<string | undefined>;
}

export interface LoginProfile {
  readonly partnerId: string;
  readonly sub: string;
  readonly email?: string;
  readonly name?: string;
  readonly payload?: Record<string, unknown>;
}

export interface JupidUser {
  readonly userId: string;
  readonly partnerId: string;
  readonly sub: string;
  /** The auth email from the first login; later logins never change it. */
  readonly email?: string;
  readonly name?: string;
  readonly payload?: Record<string, unknown>;
  readonly createdAt: number;
  readonly lastLoginAt: number;
}

/** `(partnerId, sub)` -> Jupid user. */
export interface IdentityStore {
  /**
   * Atomically map the login to a user: create it (with `newUserId`) when the
   * mapping does not exist, else update `name`/`payload` on the existing one.
   * Concurrent first logins for one `(partnerId, sub)` yield exactly one user.
   */
  recordLogin(profile: LoginProfile, newUserId: string, now: number): Promise<{ user: JupidUser; created: boolean }>;
  getUser(userId: string): Promise<JupidUser | undefined>;
  findUserId(partnerId: string, sub: string): Promise<string | undefined>;
}

/** Single use of token ids. */
export interface ReplayGuard {
  /** True for the first claim of `(partnerId, jti)`; false for every later or concurrent one. Remembered until `expiresAt` (epoch s). */
  claim(partnerId: string, jti: string, expiresAt: number): Promise<boolean>;
}

export interface Session {
  /** SHA-256 (hex) of the session id; the id itself is only ever in the cookie. */
  readonly idHash: string;
  readonly userId: string;
  readonly partnerId: string;
  readonly shell: ShellMode;
  readonly chat: boolean;
  readonly createdAt: number;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /** Epoch seconds of the last use (refreshed at most once a minute); the idle timeout runs from here. */
  readonly lastSeenAt: number;
  /**
   * Frame sessions: RFC 7638 thumbprint of the DPoP key the session is bound to;
   * every use must carry a proof signed by that key. Absent for the top-level
   * (redirect entry) session, which lives in a first-party cookie.
   */
  readonly jkt?: string;
  /** The partner's {@link PartnerRecord.sessionEpoch} when the session was created (0 for sessions stored before it existed). */
  readonly epoch: number;
}

export interface SessionStore {
  put(session: Session): Promise<void>;
  /** The stored session, or undefined (including when past `expiresAt`, whatever TTL has deleted). */
  get(idHash: string, now: number): Promise<Session | undefined>;
  /** Record a use: set `lastSeenAt` (epoch s) of an existing session; no-op when it is gone. */
  touch(idHash: string, lastSeenAt: number): Promise<void>;
  delete(idHash: string): Promise<void>;
  /**
   * End every session of `userId` at `partnerId` (OIDC back-channel logout);
   * returns how many were deleted. Sessions of the same user at other
   * partners stay.
   */
  deleteForUser(partnerId: string, userId: string): Promise<number>;
}

/** What one sign-in writes, as one unit (see {@link SignInStore}). */
export interface SignInRecord {
  /** The token's id, claimed for single use until `expiresAt` (epoch s), as {@link ReplayGuard.claim} does. */
  readonly replay: { readonly jti: string; readonly expiresAt: number };
  /** The login, mapped as {@link IdentityStore.recordLogin} does (`newUserId` is used only if it creates the user). */
  readonly login: LoginProfile;
  readonly newUserId: string;
  /** Epoch ms: the user's createdAt / lastLoginAt. */
  readonly now: number;
  /** The session to store; its `userId` is filled in with the mapped user's. */
  readonly session: Omit<Session, "userId">;
}

export type SignInOutcome =
  | {
      readonly kind: "signed-in";
      /** The mapped user: who it is and its (first-login) email, not the whole profile (a returning sign-in does not read it). */
      readonly user: Pick<JupidUser, "userId" | "partnerId" | "sub" | "email">;
      /** True when this sign-in created the user. */
      readonly created: boolean;
      readonly session: Session;
    }
  /** The jti was already claimed: nothing was written. */
  | { readonly kind: "replayed" };

/**
 * The writes of a sign-in as one unit: claim the jti, map the login to a user
 * (create or update), store the session. All of it happens or none of it: a
 * replayed token writes nothing, and a session never exists for a login that
 * was not recorded. Same guarantees as the three ports it combines — one
 * winner per jti, one user per `(partnerId, sub)` under concurrent first
 * logins — in as few storage round trips as the store allows (DynamoDB: a
 * mapping read and one transaction).
 */
export interface SignInStore {
  recordSignIn(record: SignInRecord): Promise<SignInOutcome>;
}

/** Per user and metric usage counters. */
export interface UsageStore {
  /** Atomically add `amount` and return the new total. */
  add(userId: string, metric: string, amount: number): Promise<number>;
  get(userId: string, metric: string): Promise<number>;
}

/** Everything the handlers need, built once per process. */
export interface Dependencies {
  readonly partners: PartnerStore;
  readonly secrets: PartnerSecrets;
  readonly identities: IdentityStore;
  readonly replay: ReplayGuard;
  readonly sessions: SessionStore;
  readonly signIns: SignInStore;
  readonly usage: UsageStore;
  /** Epoch milliseconds; injected so tests can freeze time. */
  readonly clock: () => number;
  /**
   * HTTP to partners' OpenID providers (discovery, JWKS, PAR, token
   * endpoint); global `fetch` when absent. Tests inject a wrapper to count
   * fetches and to play a misbehaving provider.
   */
  readonly providerFetch?: ProviderFetch;
}

/** The `fetch` the OIDC relying party uses for every request to a provider. */
export type ProviderFetch = (url: string, init: RequestInit) => Promise<Response>;
