/**
 * The doctor's logic (lib/operator/doctor.ts) with key sets the CLI cannot
 * build locally: a rotation's current and previous key, an ended overlap, a
 * kid naming another key, short keys; plus the near-miss hints and the
 * claim-by-claim report. Frozen clock throughout.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { PartnerKey } from "../../lambdas/ports/index.ts";
import { type DoctorReport, diagnoseToken, type KeySource } from "../../lib/operator/doctor.ts";
import { partnerInput, testEnvironment } from "../fixtures/partners.ts";
import { mintToken, NOW, NOW_S, OTHER_SECRET, TEST_SECRET } from "../fixtures/tokens.ts";

const config = testEnvironment([partnerInput("acme"), partnerInput("globex", { maxTokenLifetimeSeconds: 120 })]);
const current: PartnerKey = { kid: "v2", secret: OTHER_SECRET, stage: "current" };
const previous: PartnerKey = { kid: "v1", secret: TEST_SECRET, stage: "previous", notAfter: NOW_S + 3600 };
const rotated: KeySource = { kind: "keys", keys: [current, previous], source: "test keys" };

const diagnose = (token: string, keys: KeySource = rotated, extra: Partial<Parameters<typeof diagnoseToken>[0]> = {}) =>
  diagnoseToken({ token, config, keys, nowMs: NOW, ...extra });

const row = (report: DoctorReport, rule: string) => {
  const found = report.checks.find((check) => check.rule === rule);
  if (!found) throw new Error(`no ${rule} row in ${JSON.stringify(report.checks.map((c) => c.rule))}`);
  return found;
};

describe("token doctor: keys and signature", () => {
  it("names the current key when it matches", async () => {
    const report = await diagnose(mintToken("acme", { secret: OTHER_SECRET }));
    expect(report.ok).toBe(true);
    expect(row(report, "keys").message).toBe(`2 keys to try: current (kid v2); previous (kid v1, accepted until 2026-11-22T13:00:00Z, in 1h)`);
    expect(row(report, "signature")).toEqual({ rule: "signature", status: "pass", message: "matches the current key (kid v2)" });
  });

  it("a token signed with the previous key passes inside the overlap and says to switch", async () => {
    const report = await diagnose(mintToken("acme", { secret: TEST_SECRET }));
    expect(report.verdict).toEqual({ outcome: "pass", status: 200 });
    expect(row(report, "signature")).toMatchObject({
      status: "pass",
      message: "matches the previous key (kid v1)",
      hints: [expect.stringContaining("switch to the current one")],
    });
  });

  it("after the overlap the previous key is refused, and the doctor says the token IS signed with it", async () => {
    const token = mintToken("acme", { secret: TEST_SECRET, claims: { iat: NOW_S + 3601, exp: NOW_S + 3700 } });
    const report = await diagnose(token, rotated, { nowMs: (NOW_S + 3601) * 1000 });
    expect(report.verdict).toMatchObject({ outcome: "refused", code: "TOKEN_SIGNATURE_INVALID", status: 401 });
    expect(row(report, "keys").hints).toEqual([expect.stringContaining("its rotation overlap ended 1s ago")]);
    expect(row(report, "signature").hints).toEqual([
      expect.stringMatching(/^the token IS signed with the previous \(kid v1, .*\), but the gateway does not try that key: its rotation overlap ended/),
    ]);
  });

  it("a kid selects only that key; the doctor points at the key that would have matched", async () => {
    const report = await diagnose(mintToken("acme", { secret: TEST_SECRET, header: { kid: "v2" } }));
    expect(report.verdict).toMatchObject({ code: "TOKEN_SIGNATURE_INVALID" });
    expect(row(report, "signature").hints?.[0]).toMatch(/IS signed with the previous \(kid v1.*the header's kid "v2" selects another key; drop kid or send "v1"/);
    const unknownKid = await diagnose(mintToken("acme", { secret: OTHER_SECRET, header: { kid: "v9" } }));
    expect(row(unknownKid, "keys")).toMatchObject({ status: "fail", code: "TOKEN_SIGNATURE_INVALID", message: 'no active key with kid "v9"' });
  });

  it("never uses a key shorter than 32 bytes, and says so", async () => {
    const short: KeySource = { kind: "keys", keys: [{ kid: "s", secret: "short-secret", stage: "current" }], source: "test" };
    const report = await diagnose(mintToken("acme", { secret: "short-secret" }), short);
    expect(report.verdict).toMatchObject({ code: "TOKEN_SIGNATURE_INVALID" });
    expect(row(report, "keys").hints).toEqual([expect.stringContaining("shorter than 32 bytes")]);
  });

  /** A valid token re-signed with other key bytes (the secret's UTF-8 bytes are what the gateway uses). */
  const resigned = (keyBytes: Buffer) => {
    const unsigned = mintToken("acme", { secret: OTHER_SECRET }).split(".").slice(0, 2).join(".");
    return `${unsigned}.${createHmac("sha256", keyBytes).update(unsigned).digest("base64url")}`;
  };

  it.each([
    ["a trailing newline", Buffer.from(`${OTHER_SECRET}\n`, "utf8"), "trailing newline"],
    ["the base64-decoded secret", Buffer.from(OTHER_SECRET, "base64"), "base64-DECODED"],
  ])("recognises a signature made with %s", async (_label, keyBytes, hint) => {
    const report = await diagnose(resigned(keyBytes));
    expect(report.verdict).toMatchObject({ code: "TOKEN_SIGNATURE_INVALID" });
    expect(row(report, "signature").hints?.join("\n")).toContain(hint);
  });

  it("without keys, says why the signature was not checked", async () => {
    const report = await diagnose(mintToken("acme"), { kind: "unavailable", reason: "no credentials" });
    expect(report.ok).toBe(false);
    expect(report.verdict).toEqual({ outcome: "inconclusive", message: "the signature was not checked (no credentials)" });
    expect(row(report, "signature")).toMatchObject({ status: "skip", message: "not checked: no credentials" });
  });
});

describe("token doctor: claims, one row each", () => {
  it("reports every failing claim, and the verdict is the gateway's first", async () => {
    const token = mintToken("acme", { secret: OTHER_SECRET, claims: { iss: "globex", aud: "https://jupid.example", email: "nope", jti: "" } });
    const report = await diagnose(token, rotated, { partnerId: "acme" }); // the URL's partner, not the token's iss
    const failures = report.checks.filter((c) => c.status === "fail").map((c) => [c.rule, c.code]);
    expect(failures).toEqual([
      ["iss", "TOKEN_ISSUER_MISMATCH"],
      ["aud", "TOKEN_AUDIENCE_MISMATCH"],
      ["jti", "TOKEN_CLAIM_INVALID"],
      ["email", "TOKEN_CLAIM_INVALID"],
    ]);
    expect(report.verdict).toMatchObject({ outcome: "refused", code: "TOKEN_ISSUER_MISMATCH", status: 401 });
    expect(row(report, "aud").message).toBe('"aud" must be exactly "jupid-embed"; the token has aud "https://jupid.example"');
  });

  it("explains time: lifetime against the partner's maximum, expiry and skew", async () => {
    const tooLong = await diagnose(mintToken("globex", { secret: OTHER_SECRET, claims: { exp: NOW_S + 121 } }));
    expect(row(tooLong, "time")).toMatchObject({ status: "fail", code: "TOKEN_LIFETIME_TOO_LONG", hints: ["set exp = iat + 120 or less"] });
    expect(row(tooLong, "time").message).toContain("lifetime 121 s of at most 120 s");

    const fast = await diagnose(mintToken("acme", { secret: OTHER_SECRET, claims: { iat: NOW_S + 45, exp: NOW_S + 200 } }));
    expect(row(fast, "time")).toMatchObject({ code: "TOKEN_NOT_YET_VALID", hints: [expect.stringContaining("45s ahead of now")] });

    const skewedButFine = await diagnose(mintToken("acme", { secret: OTHER_SECRET, claims: { iat: NOW_S + 30, exp: NOW_S + 200 } }));
    expect(skewedButFine.ok).toBe(true);
    expect(row(skewedButFine, "time").message).toBe("iat 2026-11-22T12:00:30Z (in 30s), exp 2026-11-22T12:03:20Z (in 3m 20s), lifetime 170 s of at most 300 s");

    const ms = await diagnose(mintToken("acme", { secret: OTHER_SECRET, claims: { iat: NOW, exp: NOW + 300 } }));
    expect(row(ms, "time").hints).toEqual([expect.stringContaining("iat looks like milliseconds"), expect.stringContaining("exp looks like milliseconds")]);
  });

  it("optional claims that are absent are information, unknown claims are listed", async () => {
    const report = await diagnose(mintToken("acme", { secret: OTHER_SECRET, omit: ["email", "name", "payload"], claims: { role: "admin" } }));
    expect(report.ok).toBe(true);
    for (const rule of ["email", "name", "payload"]) expect(row(report, rule)).toEqual({ rule, status: "info", message: "absent (optional)" });
    expect(row(report, "other")).toEqual({ rule: "other", status: "info", message: "ignored claims: role" });
  });

  it("a malformed token stops at structure, with hints for the usual mistakes", async () => {
    const token = `Bearer ${mintToken("acme", { secret: OTHER_SECRET })}`;
    const report = await diagnose(token, rotated, { partnerId: "acme" });
    expect(report.verdict).toMatchObject({ outcome: "refused", code: "TOKEN_MALFORMED", status: 400 });
    expect(row(report, "structure").hints).toContain('send the token itself, without a "Bearer " prefix');
    expect(row(report, "signature").status).toBe("skip");
    expect(row(report, "claims").status).toBe("skip");
  });

  it("without --partner and without a usable iss the verdict is inconclusive", async () => {
    const report = await diagnose(mintToken("acme", { secret: OTHER_SECRET, omit: ["iss"] }));
    expect(report.verdict).toEqual({ outcome: "inconclusive", message: "the partner is unknown: pass --partner <id>" });
    expect(row(report, "partner").status).toBe("skip");
  });
});
