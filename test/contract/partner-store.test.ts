/** PartnerStore contract: partner records by id. */
import { describe, expect, it } from "vitest";
import { partnerConfig, uniquePartnerId, useWorld, WORLD_KINDS } from "./worlds.ts";

describe.each(WORLD_KINDS)("PartnerStore contract [%s]", (kind) => {
  const world = useWorld(kind, "partners");

  it("returns a stored partner exactly as configured", async () => {
    const id = uniquePartnerId();
    const config = partnerConfig(id, {
      enabled: false,
      allowedOrigins: ["https://a.example", "http://localhost:3000"],
      branding: { displayName: "Brand", primaryColor: "#123abc", logoUrl: "https://cdn.example/logo.png" },
      shell: { mode: "minimal", chat: false, allowOverride: { mode: true, chat: false } },
      firstRunPath: "/welcome",
      allowedPaths: ["/dashboard", "/reports"],
      freeLimit: { metric: "reports", threshold: 5 },
      maxTokenLifetimeSeconds: 120,
    });
    await world().putPartner(config);
    expect(await world().deps.partners.get(id)).toEqual({ ...config, sessionEpoch: 0 });
  });

  it("applies schema defaults to what it returns", async () => {
    const id = uniquePartnerId();
    await world().putPartner(partnerConfig(id));
    const stored = await world().deps.partners.get(id);
    expect(stored).toMatchObject({
      enabled: true,
      firstRunPath: "/onboarding/connect-accounts",
      maxTokenLifetimeSeconds: 300,
      shell: { allowOverride: { mode: false, chat: false } },
    });
  });

  it("answers undefined for an unknown partner and for ids that cannot be partners", async () => {
    const { partners } = world().deps;
    const known = uniquePartnerId();
    await world().putPartner(partnerConfig(known));
    expect(await partners.get(uniquePartnerId())).toBeUndefined();
    for (const id of ["", known.toUpperCase(), `${known} `, `../${known}`, "a", "x".repeat(64)]) {
      expect(await partners.get(id), JSON.stringify(id)).toBeUndefined();
    }
  });

  it("keeps partners apart and sees an updated record", async () => {
    const a = uniquePartnerId("a");
    const b = uniquePartnerId("b");
    await world().putPartner(partnerConfig(a, { displayName: "A" }));
    await world().putPartner(partnerConfig(b, { displayName: "B" }));
    expect((await world().deps.partners.get(a))?.displayName).toBe("A");
    expect((await world().deps.partners.get(b))?.displayName).toBe("B");
    await world().putPartner(partnerConfig(a, { displayName: "A2", enabled: false }));
    expect(await world().deps.partners.get(a)).toMatchObject({ displayName: "A2", enabled: false });
  });

  it("revokeSessions bumps the partner's session epoch by one, atomically, and get sees it (issue 12)", async () => {
    const { partners } = world().deps;
    const id = uniquePartnerId();
    await world().putPartner(partnerConfig(id));
    expect((await partners.get(id))?.sessionEpoch).toBe(0);
    expect(await partners.revokeSessions(id)).toBe(1);
    expect(await partners.get(id)).toMatchObject({ id, sessionEpoch: 1, enabled: true });
    // Ten operators at once: ten bumps, none lost.
    const epochs = await Promise.all(Array.from({ length: 10 }, () => partners.revokeSessions(id)));
    expect([...epochs].sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect((await partners.get(id))?.sessionEpoch).toBe(11);
  });

  it("revokeSessions of a partner without a record is PARTNER_NOT_FOUND and creates nothing", async () => {
    const { partners } = world().deps;
    const id = uniquePartnerId();
    await expect(partners.revokeSessions(id)).rejects.toMatchObject({ code: "PARTNER_NOT_FOUND" });
    await expect(partners.revokeSessions("Not An Id")).rejects.toMatchObject({ code: "PARTNER_NOT_FOUND" });
    expect(await partners.get(id)).toBeUndefined();
  });
});
