/**
 * In-memory adapters: the local gateway's embedded default and the tests'
 * double. They honour the same contract as the AWS adapters (test/contract),
 * including atomicity: every operation completes synchronously inside one
 * microtask, so concurrent callers in one process can never interleave a
 * read and a write.
 */
import type { EnvironmentConfig, PartnerConfig } from "../../../config/schema.ts";
import { EmbedError } from "../../core/errors.ts";
import type {
  Dependencies,
  IdentityStore,
  JupidUser,
  LoginProfile,
  PartnerKey,
  PartnerSecrets,
  PartnerRecord,
  PartnerStore,
  ReplayGuard,
  Session,
  SessionStore,
  SignInOutcome,
  SignInRecord,
  SignInStore,
  UsageStore,
} from "../../ports/index.ts";

export class MemoryPartnerStore implements PartnerStore {
  private readonly byId = new Map<string, PartnerRecord>();
  constructor(partners: readonly PartnerConfig[]) {
    for (const partner of partners) this.set(partner);
  }
  async get(partnerId: string): Promise<PartnerRecord | undefined> {
    return this.byId.get(partnerId);
  }
  async revokeSessions(partnerId: string): Promise<number> {
    const record = this.byId.get(partnerId);
    if (!record) throw new EmbedError("PARTNER_NOT_FOUND", `no partner record ${partnerId}`);
    const sessionEpoch = (record.sessionEpoch ?? 0) + 1;
    this.byId.set(partnerId, { ...record, sessionEpoch });
    return sessionEpoch;
  }
  /** Remove a record (tests: a partner deleted by hand). */
  delete(partnerId: string): void {
    this.byId.delete(partnerId);
  }
  /** Replace or add a partner record (tests and the local gateway), like a PutItem of the whole record. */
  set(partner: PartnerConfig, sessionEpoch = 0): void {
    this.byId.set(partner.id, { ...partner, sessionEpoch });
  }
}

export class MemoryPartnerSecrets implements PartnerSecrets {
  private readonly keys = new Map<string, PartnerKey[]>();
  private readonly oidcClientSecrets = new Map<string, string>();
  async getKeys(partnerId: string): Promise<readonly PartnerKey[]> {
    return this.keys.get(partnerId) ?? [];
  }
  async getOidcClientSecret(partnerId: string): Promise<string | undefined> {
    return this.oidcClientSecrets.get(partnerId);
  }
  /** Set the OIDC client secret of a partner. */
  setOidcClientSecret(partnerId: string, secret: string): void {
    this.oidcClientSecrets.set(partnerId, secret);
  }
  /** Set the current secret of a partner with no previous key. */
  setCurrent(partnerId: string, secret: string, kid = "k1"): void {
    this.keys.set(partnerId, [{ kid, secret, stage: "current" }]);
  }
  /** Rotate: the new secret becomes current, the old current stays valid until `notAfter` (epoch s). */
  rotate(partnerId: string, secret: string, kid: string, notAfter: number): void {
    const current = this.keys.get(partnerId)?.find((k) => k.stage === "current");
    const next: PartnerKey[] = [{ kid, secret, stage: "current" }];
    if (current) next.push({ ...current, stage: "previous", notAfter });
    this.keys.set(partnerId, next);
  }
}

export class MemoryIdentityStore implements IdentityStore {
  private readonly mappings = new Map<string, string>();
  private readonly users = new Map<string, JupidUser>();

  async recordLogin(profile: LoginProfile, newUserId: string, now: number): Promise<{ user: JupidUser; created: boolean }> {
    return this.recordLoginNow(profile, newUserId, now);
  }
  /** {@link recordLogin} without a promise, for {@link MemorySignInStore}'s single synchronous step. */
  recordLoginNow(profile: LoginProfile, newUserId: string, now: number): { user: JupidUser; created: boolean } {
    const key = mappingKey(profile.partnerId, profile.sub);
    const existingId = this.mappings.get(key);
    const existing = existingId === undefined ? undefined : this.users.get(existingId);
    if (existing) {
      const user: JupidUser = { ...existing, name: profile.name, payload: profile.payload, lastLoginAt: now };
      this.users.set(user.userId, user);
      return { user, created: false };
    }
    const user: JupidUser = {
      userId: newUserId,
      partnerId: profile.partnerId,
      sub: profile.sub,
      email: profile.email,
      name: profile.name,
      payload: profile.payload,
      createdAt: now,
      lastLoginAt: now,
    };
    this.mappings.set(key, newUserId);
    this.users.set(newUserId, user);
    return { user, created: true };
  }
  async getUser(userId: string): Promise<JupidUser | undefined> {
    return this.users.get(userId);
  }
  async findUserId(partnerId: string, sub: string): Promise<string | undefined> {
    return this.mappings.get(mappingKey(partnerId, sub));
  }
  /** Test helper: how many users exist. */
  get userCount(): number {
    return this.users.size;
  }
}

// Partner ids cannot contain "\u0000"; the sub after it is kept byte-exact.
function mappingKey(partnerId: string, sub: string): string {
  return `${partnerId}\u0000${sub}`;
}

export class MemoryReplayGuard implements ReplayGuard {
  private readonly seen = new Map<string, number>();
  constructor(private readonly clock: () => number) {}
  async claim(partnerId: string, jti: string, expiresAt: number): Promise<boolean> {
    return this.claimNow(partnerId, jti, expiresAt);
  }
  /** {@link claim} without a promise, for {@link MemorySignInStore}'s single synchronous step. */
  claimNow(partnerId: string, jti: string, expiresAt: number): boolean {
    const key = `${partnerId}\u0000${jti}`;
    const nowSeconds = Math.floor(this.clock() / 1000);
    const until = this.seen.get(key);
    if (until !== undefined && until >= nowSeconds) return false;
    this.seen.set(key, expiresAt);
    this.sweep(nowSeconds);
    return true;
  }
  private sweeps = 0;
  // Bounded memory for a long-running local gateway: drop expired entries now and then.
  private sweep(nowSeconds: number): void {
    if (++this.sweeps % 1000 !== 0) return;
    for (const [key, until] of this.seen) if (until < nowSeconds) this.seen.delete(key);
  }
}

export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Session>();
  async put(session: Session): Promise<void> {
    this.putNow(session);
  }
  putNow(session: Session): void {
    this.sessions.set(session.idHash, session);
  }
  async get(idHash: string, now: number): Promise<Session | undefined> {
    const session = this.sessions.get(idHash);
    if (!session) return undefined;
    if (session.expiresAt <= Math.floor(now / 1000)) {
      this.sessions.delete(idHash);
      return undefined;
    }
    return session;
  }
  async touch(idHash: string, lastSeenAt: number): Promise<void> {
    const session = this.sessions.get(idHash);
    if (session) this.sessions.set(idHash, { ...session, lastSeenAt });
  }
  async delete(idHash: string): Promise<void> {
    this.sessions.delete(idHash);
  }
  async deleteForUser(partnerId: string, userId: string): Promise<number> {
    let deleted = 0;
    for (const [idHash, session] of this.sessions) {
      if (session.partnerId === partnerId && session.userId === userId) {
        this.sessions.delete(idHash);
        deleted++;
      }
    }
    return deleted;
  }
  /** Test double: every stored session (e.g. to end them as the gateway would). */
  list(): readonly Session[] {
    return [...this.sessions.values()];
  }
}

/** A sign-in on the three memory stores in one synchronous step, so nothing can interleave with it. */
export class MemorySignInStore implements SignInStore {
  constructor(
    private readonly replay: MemoryReplayGuard,
    private readonly identities: MemoryIdentityStore,
    private readonly sessions: MemorySessionStore,
  ) {}
  async recordSignIn(record: SignInRecord): Promise<SignInOutcome> {
    const { login } = record;
    if (!this.replay.claimNow(login.partnerId, record.replay.jti, record.replay.expiresAt)) return { kind: "replayed" };
    const { user, created } = this.identities.recordLoginNow(login, record.newUserId, record.now);
    const session: Session = { ...record.session, userId: user.userId };
    this.sessions.putNow(session);
    const email = user.email === undefined ? {} : { email: user.email };
    return { kind: "signed-in", user: { userId: user.userId, partnerId: user.partnerId, sub: user.sub, ...email }, created, session };
  }
}

export class MemoryUsageStore implements UsageStore {
  private readonly counters = new Map<string, number>();
  async add(userId: string, metric: string, amount: number): Promise<number> {
    const key = `${userId}\u0000${metric}`;
    const used = (this.counters.get(key) ?? 0) + amount;
    this.counters.set(key, used);
    return used;
  }
  async get(userId: string, metric: string): Promise<number> {
    return this.counters.get(`${userId}\u0000${metric}`) ?? 0;
  }
}

export interface MemoryDependencies extends Dependencies {
  readonly partners: MemoryPartnerStore;
  readonly secrets: MemoryPartnerSecrets;
  readonly identities: MemoryIdentityStore;
  readonly replay: MemoryReplayGuard;
  readonly sessions: MemorySessionStore;
}

/** A fresh in-memory world for the given partners; `clock` defaults to Date.now. */
export function createMemoryDependencies(
  config: Pick<EnvironmentConfig, "partners">,
  clock: () => number = Date.now,
): MemoryDependencies {
  const identities = new MemoryIdentityStore();
  const replay = new MemoryReplayGuard(clock);
  const sessions = new MemorySessionStore();
  return {
    partners: new MemoryPartnerStore(config.partners),
    secrets: new MemoryPartnerSecrets(),
    identities,
    replay,
    sessions,
    signIns: new MemorySignInStore(replay, identities, sessions),
    usage: new MemoryUsageStore(),
    clock,
  };
}
