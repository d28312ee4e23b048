/**
 * The partner kit's webhook verifier (`@jupid/embed/server`): HMAC-SHA256 over
 * `${timestamp}.${body}`, checked against node:crypto computed independently,
 * with boundary pairs on the replay window under a frozen clock.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  signWebhook,
  verifyWebhook,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  type WebhookErrorCode,
  WebhookVerificationError,
} from "@jupid/embed/server";
import { NOW, NOW_S, OTHER_SECRET, TEST_SECRET } from "../fixtures/tokens.ts";

const body = JSON.stringify({ id: "evt_1", type: "usage.limitReached", data: { metric: "transactions", used: 100 } });
const hmac = (secret: string, timestamp: number, content: string | Buffer) =>
  createHmac("sha256", secret).update(`${timestamp}.`).update(content).digest("hex");

const verify = (overrides: Partial<Parameters<typeof verifyWebhook>[0]> = {}) =>
  verifyWebhook({
    secret: TEST_SECRET,
    body,
    signatureHeader: `v1=${hmac(TEST_SECRET, NOW_S, body)}`,
    timestampHeader: String(NOW_S),
    now: NOW,
    ...overrides,
  });

async function refusal(promise: Promise<unknown>): Promise<WebhookErrorCode> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WebhookVerificationError);
  return (error as WebhookVerificationError).code;
}

describe("verifyWebhook", () => {
  it("accepts the signature node:crypto computes and returns the parsed body", async () => {
    await expect(verify()).resolves.toEqual(JSON.parse(body));
  });

  it("signWebhook writes exactly the headers verifyWebhook reads (one home for the format)", async () => {
    const headers = await signWebhook({ secret: TEST_SECRET, body, timestamp: NOW_S });
    expect(headers).toEqual({ [WEBHOOK_TIMESTAMP_HEADER]: String(NOW_S), [WEBHOOK_SIGNATURE_HEADER]: `v1=${hmac(TEST_SECRET, NOW_S, body)}` });
    expect([WEBHOOK_TIMESTAMP_HEADER, WEBHOOK_SIGNATURE_HEADER]).toEqual(["jupid-timestamp", "jupid-signature"]);
    const request = new Request("https://partner.example/hooks/jupid", { method: "POST", body, headers });
    await expect(
      verify({ signatureHeader: request.headers.get("Jupid-Signature"), timestampHeader: request.headers.get("Jupid-Timestamp") }),
    ).resolves.toMatchObject({ id: "evt_1" });
  });

  it("takes the raw body as bytes too (non-ASCII content signed byte for byte)", async () => {
    const raw = Buffer.from(JSON.stringify({ id: "evt_2", name: "Zoë — 東京" }));
    await expect(
      verify({ body: new Uint8Array(raw), signatureHeader: `v1=${hmac(TEST_SECRET, NOW_S, raw)}` }),
    ).resolves.toEqual({ id: "evt_2", name: "Zoë — 東京" });
  });

  it("accepts any of several v1 signatures and any of several secrets (rotation), ignores unknown schemes", async () => {
    const other = hmac(OTHER_SECRET, NOW_S, body);
    const good = hmac(TEST_SECRET, NOW_S, body);
    await expect(verify({ signatureHeader: `v2=abc, v1=${other}, v1=${good}` })).resolves.toBeDefined();
    await expect(verify({ secret: [OTHER_SECRET, TEST_SECRET], signatureHeader: `v1=${good}` })).resolves.toBeDefined();
    expect(await refusal(verify({ signatureHeader: `v2=${good}` }))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it.each([
    ["another secret", { secret: OTHER_SECRET }],
    ["a changed body", { body: body.replace("100", "101") }],
    ["a re-serialised body", { body: JSON.stringify(JSON.parse(body), null, 2) }],
    ["a changed timestamp", { timestampHeader: String(NOW_S + 1) }],
    ["an upper-case hex signature", { signatureHeader: `v1=${hmac(TEST_SECRET, NOW_S, body).toUpperCase()}` }],
    ["a truncated signature", { signatureHeader: `v1=${hmac(TEST_SECRET, NOW_S, body).slice(0, 63)}` }],
    ["garbage", { signatureHeader: "v1=zz, ,=,v1" }],
  ])("refuses %s as WEBHOOK_SIGNATURE_INVALID", async (_label, overrides) => {
    expect(await refusal(verify(overrides))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("refuses missing headers, a malformed timestamp and a missing secret with their own codes", async () => {
    expect(await refusal(verify({ signatureHeader: null }))).toBe("WEBHOOK_HEADER_MISSING");
    expect(await refusal(verify({ timestampHeader: undefined }))).toBe("WEBHOOK_HEADER_MISSING");
    expect(await refusal(verify({ timestampHeader: "1.5" }))).toBe("WEBHOOK_TIMESTAMP_INVALID");
    expect(await refusal(verify({ timestampHeader: "-1" }))).toBe("WEBHOOK_TIMESTAMP_INVALID");
    expect(await refusal(verify({ secret: "" }))).toBe("WEBHOOK_SECRET_MISSING");
    expect(await refusal(verify({ secret: [] }))).toBe("WEBHOOK_SECRET_MISSING");
  });

  it("replay window: exactly the tolerance either way passes, one second more is refused", async () => {
    const at = (offset: number, tolerance?: number) => {
      const t = NOW_S + offset;
      return verify({ timestampHeader: String(t), signatureHeader: `v1=${hmac(TEST_SECRET, t, body)}`, toleranceSeconds: tolerance });
    };
    expect(DEFAULT_WEBHOOK_TOLERANCE_SECONDS).toBe(300);
    await expect(at(-300)).resolves.toBeDefined();
    await expect(at(300)).resolves.toBeDefined();
    expect(await refusal(at(-301))).toBe("WEBHOOK_TIMESTAMP_OUT_OF_RANGE");
    expect(await refusal(at(301))).toBe("WEBHOOK_TIMESTAMP_OUT_OF_RANGE");
    await expect(at(-30, 30)).resolves.toBeDefined();
    expect(await refusal(at(-31, 30))).toBe("WEBHOOK_TIMESTAMP_OUT_OF_RANGE");
  });

  it("an authentic body that is not JSON is WEBHOOK_PAYLOAD_INVALID; no message carries the secret", async () => {
    const code = await refusal(verify({ body: "not json", signatureHeader: `v1=${hmac(TEST_SECRET, NOW_S, "not json")}` }));
    expect(code).toBe("WEBHOOK_PAYLOAD_INVALID");
    const error = await verify({ secret: OTHER_SECRET }).catch((e: Error) => e);
    expect(String((error as Error).message)).not.toContain(OTHER_SECRET);
  });
});
