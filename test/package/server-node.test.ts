/**
 * `@jupid/embed/server` from the installed tarball under plain Node 20 and 22
 * (no TypeScript loader): a token it signs becomes a session at the local
 * gateway, and a webhook signed as Jupid signs it (node:crypto HMAC over
 * `${timestamp}.${body}`) verifies, while a tampered one is refused.
 */
import { postFrameSignIn } from "../fixtures/dpop.ts";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../lambdas/local/gateway.ts";
import { NODE_BIN_DIR, PARTNER_ID, partnerProject, run, startPartnerGateway } from "./support.ts";

const PAGE_ORIGIN = "http://localhost:3000";
/** Node 20 is the oldest the package supports (engines); Debian's nodejs is 20 here and in CI. */
const NODES = [
  { label: "Node 20", bin: process.env.NODE20_PATH ?? "/usr/bin/node", major: 20 },
  { label: "Node 22", bin: join(NODE_BIN_DIR, "node"), major: 22 },
];

/** What a partner writes: plain ESM, the public name, nothing else. */
const PARTNER_SCRIPT = `
import { createHmac } from "node:crypto";
import { signEmbedToken, verifyWebhook, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from "@jupid/embed/server";

const [partnerId, secret, sub] = process.argv.slice(2);
const token = await signEmbedToken({ partnerId, secret, user: { id: sub, email: "ada@example.com", name: "Ada" } });

const webhookSecret = "whsec-" + "0123456789abcdef".repeat(3);
const body = JSON.stringify({ id: "evt_1", type: "user.provisioned", data: { sub } });
const timestamp = Math.floor(Date.now() / 1000);
const signature = "v1=" + createHmac("sha256", webhookSecret).update(timestamp + "." + body).digest("hex");
const event = await verifyWebhook({ secret: webhookSecret, body, signatureHeader: signature, timestampHeader: String(timestamp) });
const tampered = await verifyWebhook({ secret: webhookSecret, body: body.replace("evt_1", "evt_2"), signatureHeader: signature, timestampHeader: String(timestamp) })
  .then(() => "accepted", (error) => error.code);
const stale = await verifyWebhook({ secret: webhookSecret, body, signatureHeader: signature, timestampHeader: String(timestamp), now: (timestamp + 301) * 1000 })
  .then(() => "accepted", (error) => error.code);
console.log(JSON.stringify({ node: process.versions.node, token, event, tampered, stale, headers: [WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER] }));
`;

let gateway: RunningGateway;
let secret: string;

beforeAll(async () => {
  ({ gateway, secret } = await startPartnerGateway([PAGE_ORIGIN]));
  writeFileSync(join(partnerProject(), "partner-server.mjs"), PARTNER_SCRIPT);
});

afterAll(async () => {
  await gateway?.close();
});

describe.each(NODES)("@jupid/embed/server under $label", ({ bin, major }) => {
  it("signs a token the gateway accepts and verifies a webhook signature", async () => {
    if (!existsSync(bin)) throw new Error(`${bin} not found: install Debian's nodejs (apt-get install -y nodejs) or set NODE20_PATH`);
    const sub = `node${major}-${Date.now()}`;
    const { stdout } = await run(bin, ["partner-server.mjs", PARTNER_ID, secret, sub], partnerProject());
    const result = JSON.parse(stdout.trim());
    expect(Number(result.node.split(".")[0])).toBe(major);
    expect(result.event).toEqual({ id: "evt_1", type: "user.provisioned", data: { sub } });
    expect(result.tampered).toBe("WEBHOOK_SIGNATURE_INVALID");
    expect(result.stale).toBe("WEBHOOK_TIMESTAMP_OUT_OF_RANGE");
    expect(result.headers).toEqual(["jupid-signature", "jupid-timestamp"]);

    const response = await postFrameSignIn(gateway.url, PARTNER_ID, { token: result.token, parentOrigin: PAGE_ORIGIN });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ firstRun: true });
  });
});
