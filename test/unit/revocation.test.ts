/**
 * Issue 12: disabling or removing a partner did not end its sessions, and
 * nothing could revoke them after a secret compromise. Every use of a session
 * now goes through lambdas/core/session-validity.ts; the session epoch of the
 * partner record revokes them all at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PartnerConfig } from "../../config/schema.ts";
import { assertSessionUsable, sessionRefusal } from "../../lambdas/core/session-validity.ts";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import type { PartnerRecord, Session } from "../../lambdas/ports/index.ts";
import { partnerConfig } from "../contract/worlds.ts";
import { partnerInput, testEnvironment } from "../fixtures/partners.ts";
import { mintToken, NOW, TEST_SECRET } from "../fixtures/tokens.ts";

const ORIGIN = "http://localhost:3000";
let gateway: RunningGateway;
const config = testEnvironment([partnerInput("acme"), partnerInput("globex")]);
const acme = config.partners.find((p) => p.id === "acme") as PartnerConfig;

beforeAll(async () => {
  setLogSink(() => {});
  gateway = await startGateway({ config, secrets: { acme: TEST_SECRET, globex: TEST_SECRET }, port: 0, clock: () => NOW });
});
afterAll(() => gateway.close());

async function signIn(partnerId = "acme"): Promise<string> {
  // A top-level session (the redirect entry, posted from the partner's page): its uses are the workspace and resolve.
  const answer = await gateway.handle({
    method: "POST",
    target: `/partner/${partnerId}/enter`,
    headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
    body: Buffer.from(new URLSearchParams({ token: mintToken(partnerId) }).toString()),
  });
  expect(answer.statusCode).toBe(303);
  return /jupid_session=([^;]+)/.exec(String(answer.headers?.["Set-Cookie"]))?.[1] as string;
}

/** Both uses of a session the gateway has today: the workspace page and the Jupid app's resolution. */
async function uses(sessionId: string): Promise<{ workspace: number; resolve: string }> {
  const workspace = await gateway.handle({ method: "GET", target: "/app/", headers: { cookie: `jupid_session=${sessionId}` }, body: Buffer.alloc(0) });
  const resolved = await gateway.handle({
    method: "POST",
    target: "/internal/sessions/resolve",
    headers: { "content-type": "application/json", "x-jupid-internal-key": gateway.internalKey },
    body: Buffer.from(JSON.stringify({ sessionId })),
  });
  const body = JSON.parse(resolved.body);
  return { workspace: workspace.statusCode, resolve: resolved.statusCode === 200 ? "200" : `${resolved.statusCode} ${body.error.code}` };
}

const LIVE = { workspace: 200, resolve: "200" };
const REFUSED = { workspace: 401, resolve: "401 SESSION_REQUIRED" };

describe("revocation through the gateway", () => {
  it("disabling a partner ends its sessions at once, and enabling it again does not bring them back", async () => {
    const memory = gateway.memory!;
    const before = await signIn();
    const other = await signIn("globex");
    expect(await uses(before)).toEqual(LIVE);

    memory.partners.set({ ...acme, enabled: false }, 1); // what a deploy with `enabled: false` writes
    expect(await uses(before)).toEqual(REFUSED);
    expect(await uses(other), "another partner's sessions are untouched").toEqual(LIVE);

    memory.partners.set(acme, 1);
    expect(await uses(before)).toEqual(REFUSED);
    expect(await uses(await signIn()), "a new sign-in works again").toEqual(LIVE);
  });

  it("a removed partner record ends its sessions", async () => {
    const sessionId = await signIn();
    gateway.memory!.partners.delete("acme");
    try {
      expect(await uses(sessionId)).toEqual(REFUSED);
    } finally {
      gateway.memory!.partners.set(acme, 5);
    }
  });

  it("revokeSessions (the operator CLI's partners revoke-sessions) ends every session of that partner only", async () => {
    const memory = gateway.memory!;
    const sessions = [await signIn(), await signIn()];
    const other = await signIn("globex");
    await memory.partners.revokeSessions("acme");
    for (const id of sessions) expect(await uses(id)).toEqual(REFUSED);
    expect(await uses(other)).toEqual(LIVE);
    expect(await uses(await signIn())).toEqual(LIVE);
  });
});

describe("assertSessionUsable", () => {
  const record = (overrides: Partial<PartnerRecord> = {}): PartnerRecord => ({ ...partnerConfig("acme-books"), sessionEpoch: 2, ...overrides });
  const session = (epoch: number, partnerId = "acme-books"): Session => ({
    idHash: "h",
    userId: "usr_1",
    partnerId,
    shell: "embedded",
    chat: true,
    createdAt: 1,
    expiresAt: 2,
    lastSeenAt: 1,
    epoch,
  });

  it("accepts a session of the current epoch (or a later one) of an enabled partner", () => {
    expect(() => assertSessionUsable(session(2), record())).not.toThrow();
    expect(sessionRefusal(session(3), record())).toBeUndefined();
    expect(sessionRefusal(session(0), record({ sessionEpoch: undefined }))).toBeUndefined();
  });

  it.each([
    ["an older epoch", session(1), record(), /revoked/],
    ["a missing partner", session(2), undefined, /no longer exists/],
    ["a disabled partner", session(2), record({ enabled: false }), /disabled/],
    ["another partner's record", session(2, "globex"), record(), /no longer exists/],
  ])("refuses %s with SESSION_REQUIRED", (_name, s, partner, message) => {
    expect(() => assertSessionUsable(s, partner)).toThrow(expect.objectContaining({ code: "SESSION_REQUIRED", message: expect.stringMatching(message) }));
  });
});
