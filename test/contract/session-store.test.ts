/** SessionStore contract: put/get/touch/delete by id hash; expired sessions are absent whatever TTL has done. */
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Session } from "../../lambdas/ports/index.ts";
import { uniquePartnerId, useWorld, WORLD_KINDS } from "./worlds.ts";

function session(overrides: Partial<Session> = {}): Session {
  const now = Math.floor(Date.now() / 1000);
  return {
    idHash: createHash("sha256").update(randomBytes(32)).digest("hex"),
    userId: `u-${randomBytes(6).toString("hex")}`,
    partnerId: uniquePartnerId(),
    shell: "embedded",
    chat: true,
    createdAt: now,
    expiresAt: now + 3600,
    lastSeenAt: now,
    epoch: 0,
    ...overrides,
  };
}

describe.each(WORLD_KINDS)("SessionStore contract [%s]", (kind) => {
  const world = useWorld(kind, "sessions");

  it("returns what was put, field for field", async () => {
    const { sessions } = world().deps;
    const full = session({ shell: "full", chat: false, jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", epoch: 7 });
    const minimal = session({ shell: "minimal", chat: true });
    await sessions.put(full);
    await sessions.put(minimal);
    expect(await sessions.get(full.idHash, Date.now())).toEqual(full);
    expect(await sessions.get(minimal.idHash, Date.now())).toEqual(minimal);
  });

  it("answers undefined for an unknown id hash", async () => {
    expect(await world().deps.sessions.get(session().idHash, Date.now())).toBeUndefined();
  });

  it("treats a session as absent from its expiresAt second on", async () => {
    const { sessions } = world().deps;
    const s = session();
    await sessions.put(s);
    expect(await sessions.get(s.idHash, (s.expiresAt - 1) * 1000 + 999)).toEqual(s);
    expect(await sessions.get(s.idHash, s.expiresAt * 1000)).toBeUndefined();
    expect(await sessions.get(s.idHash, (s.expiresAt + 86_400) * 1000)).toBeUndefined();
  });

  it("treats an already-expired stored session as absent (TTL deletion is lazy)", async () => {
    const { sessions } = world().deps;
    const now = Math.floor(Date.now() / 1000);
    const stale = session({ createdAt: now - 7200, expiresAt: now - 3600 });
    await sessions.put(stale);
    expect(await sessions.get(stale.idHash, Date.now())).toBeUndefined();
  });

  it("deletes a session, and deleting an unknown one is not an error", async () => {
    const { sessions } = world().deps;
    const s = session();
    const other = session();
    await sessions.put(s);
    await sessions.put(other);
    await sessions.delete(s.idHash);
    expect(await sessions.get(s.idHash, Date.now())).toBeUndefined();
    expect(await sessions.get(other.idHash, Date.now())).toEqual(other);
    await expect(sessions.delete(s.idHash)).resolves.toBeUndefined();
  });

  it("replaces a session put again under the same id hash", async () => {
    const { sessions } = world().deps;
    const s = session();
    await sessions.put(s);
    const replaced = { ...s, shell: "minimal" as const, chat: false, expiresAt: s.expiresAt + 60 };
    await sessions.put(replaced);
    expect(await sessions.get(s.idHash, Date.now())).toEqual(replaced);
  });

  it("touch moves lastSeenAt of a live session and never creates one", async () => {
    const { sessions } = world().deps;
    const s = session();
    await sessions.put(s);
    await sessions.touch(s.idHash, s.lastSeenAt + 90);
    expect(await sessions.get(s.idHash, Date.now())).toEqual({ ...s, lastSeenAt: s.lastSeenAt + 90 });
    const gone = session();
    await sessions.touch(gone.idHash, gone.lastSeenAt + 90);
    expect(await sessions.get(gone.idHash, Date.now())).toBeUndefined();
  });

  it("deletes every session of one user at one partner, and only those", async () => {
    const { sessions } = world().deps;
    const partnerId = uniquePartnerId();
    const userId = `u-${randomBytes(6).toString("hex")}`;
    const mine = [session({ partnerId, userId }), session({ partnerId, userId }), session({ partnerId, userId })];
    const otherPartner = session({ userId });
    const otherUser = session({ partnerId });
    for (const s of [...mine, otherPartner, otherUser]) await sessions.put(s);
    // The AWS adapter reads an eventually consistent index; the emulator, like DynamoDB within moments, has it.
    expect(await sessions.deleteForUser(partnerId, userId)).toBe(3);
    for (const s of mine) expect(await sessions.get(s.idHash, Date.now())).toBeUndefined();
    expect(await sessions.get(otherPartner.idHash, Date.now())).toEqual(otherPartner);
    expect(await sessions.get(otherUser.idHash, Date.now())).toEqual(otherUser);
    expect(await sessions.deleteForUser(partnerId, userId)).toBe(0);
  });
});
