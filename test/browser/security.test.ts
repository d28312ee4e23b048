/**
 * Who may frame the embed and who may talk to it, in headless Chromium:
 * CSP frame-ancestors, exact origins, exact windows, embed ids, and a token
 * that only ever travels to the app origin.
 */
import type { Frame, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  callHandle,
  events,
  FIRST_RUN_PATH,
  frameIn,
  mount,
  openHarness,
  PARTNER_ID,
  sleep,
  tokenCalls,
  types,
  waitForEvent,
  workspaceFrame,
} from "./support.ts";
import { PROTOCOL_VERSION } from "../../sdk/src/protocol.ts";
import { useBrowserWorld } from "./world.ts";

const world = useBrowserWorld();

const embedIdOf = (frameName: string) => new URLSearchParams(frameName).get("id") as string;

describe("framing", () => {
  it("a page on an origin the partner does not allow cannot frame the embed: ORIGIN_NOT_ALLOWED (diagnosed), no token leaves the page", async () => {
    const page = await openHarness(world.context, world.stack, world.stack.evilUrl);
    const refusals: string[] = [];
    page.on("console", (message) => {
      if (message.text().includes("frame-ancestors")) refusals.push(message.text());
    });
    await mount(page, { key: "a", container: "#a", token: world.stack.token() });
    const list = await waitForEvent(page, "a", "error", { code: "ORIGIN_NOT_ALLOWED" });
    expect(list).toHaveLength(1);
    // The gateway's public diagnosis names the page's origin, the partner and the environment.
    expect(list[0]?.message).toContain(world.stack.evilUrl);
    expect(list[0]?.message).toContain(`partner ${PARTNER_ID} is known`);
    expect(list[0]?.message).toContain("Jupid local");
    expect(await tokenCalls(page)).toBe(0);
    expect(refusals.join("\n")).toContain(world.stack.harnessUrl);
    // The browser shows its own error page, not Jupid's.
    expect(await (await frameIn(page, "#a")).$("#jupid-config").catch(() => null)).toBeNull();
  });

  it("an unknown partner id gives PARTNER_NOT_FOUND (a 404 that nobody may frame, diagnosed)", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a", partnerId: "no-such-partner" });
    await waitForEvent(page, "a", "error", { code: "PARTNER_NOT_FOUND" });
    // The diagnosis is the gateway's public answer, not a guess from the frame's silence.
    expect((await events(page, "a")).find((e) => e.type === "error" && e.code === "PARTNER_NOT_FOUND")?.message).toContain("partner no-such-partner is unknown");
  });

  it("the gateway refuses a sign-in that names a parent origin the partner does not allow (ORIGIN_NOT_ALLOWED)", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a", getToken: "fail" });
    await waitForEvent(page, "a", "ready");
    const frame = await frameIn(page, "#a");
    const answer = await frame.evaluate(
      async ({ url, token, parentOrigin }) => {
        // A valid DPoP proof, made as the frame makes it, so that only the origin is wrong.
        const b64 = (bytes: ArrayBuffer | Uint8Array) =>
          btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
        const json = (value: unknown) => b64(new TextEncoder().encode(JSON.stringify(value)));
        const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
        const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", keys.publicKey);
        const htu = new URL(url, location.href).href;
        const input = `${json({ typ: "dpop+jwt", alg: "ES256", jwk: { kty, crv, x, y } })}.${json({ jti: b64(crypto.getRandomValues(new Uint8Array(16))), htm: "POST", htu, iat: Math.floor(Date.now() / 1000) })}`;
        const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, new TextEncoder().encode(input));
        const response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", DPoP: `${input}.${b64(signature)}` },
          body: JSON.stringify({ token, parentOrigin }),
        });
        return { status: response.status, body: await response.json() };
      },
      { url: `/embed/${PARTNER_ID}/session`, token: world.stack.token(), parentOrigin: world.stack.evilUrl },
    );
    expect(answer).toMatchObject({ status: 403, body: { error: { code: "ORIGIN_NOT_ALLOWED" } } });
  });

  it("the bootstrap page opened directly (not framed by the SDK) stays passive", async () => {
    const page = await world.context.newPage();
    await page.goto(`${world.stack.appUrl}/embed/${PARTNER_ID}`);
    expect(await page.textContent("#status")).toMatch(/inside a partner app/);
  });
});

describe("messages the SDK accepts", () => {
  it("ignores forged frame messages from the page itself and from another app-origin window", async () => {
    const page = await openHarness(world.context, world.stack);
    const name = await mount(page, { key: "a", container: "#a" });
    await waitForEvent(page, "a", "navigate");
    await sleep(150);
    const before = await events(page, "a");
    const embedId = embedIdOf(name);
    const forged = [
      { type: "jupid:authenticated", embedId, firstRun: true },
      { type: "jupid:error", embedId, code: "FORGED", message: "forged" },
      { type: "jupid:navigate", embedId, path: "/forged" },
      { type: "jupid:resize", embedId, height: 99 },
      { type: "jupid:authRequired", embedId, code: "TOKEN_EXPIRED" },
    ];

    // 1. Right embed id, wrong window and origin: the partner page (or any script on it) posting to itself.
    await page.evaluate((messages) => {
      for (const message of messages) window.postMessage(message, "*");
    }, forged);

    // 2. Right embed id and the app origin, but another window: a second Jupid frame claiming this embed's id.
    await page.evaluate(
      ({ src, frameName }) => {
        const impostor = document.createElement("iframe");
        impostor.name = frameName;
        impostor.id = "impostor";
        impostor.src = src;
        document.body.append(impostor);
      },
      { src: `${world.stack.appUrl}/embed/${PARTNER_ID}`, frameName: name },
    );
    const impostor = (await (await page.waitForSelector("#impostor")).contentFrame()) as Frame;
    await impostor.waitForSelector("#status");
    await impostor.evaluate((messages) => {
      for (const message of messages) window.parent.postMessage(message, "*");
    }, forged);
    await sleep(400);

    expect(await events(page, "a")).toEqual(before);
    expect(await tokenCalls(page)).toBe(1);
    // The impostor's own `ready` was not answered: it never got an auth message, so it is still waiting.
    expect(await impostor.textContent("#status")).toMatch(/Waiting for sign-in/);
  });

  it("never sends the token to a frame that navigated to another origin", async () => {
    const page = await openHarness(world.context, world.stack);
    const secretToken = world.stack.token();
    // A hostile script on the page re-points the iframe before the handshake; the impostor says `ready` with the right id.
    await page.evaluate(
      ({ o, impostor }) => {
        const harness = (window as unknown as { harness: { mount(o: unknown): string; handles: Record<string, { iframe: HTMLIFrameElement }> } })
          .harness;
        harness.mount(o);
        (harness.handles.a as { iframe: HTMLIFrameElement }).iframe.src = impostor;
      },
      { o: { key: "a", container: "#a", partnerId: PARTNER_ID, token: secretToken, user: { sub: "x", name: "X", email: "x@acme.example" } }, impostor: `${world.stack.evilUrl}/impostor` },
    );
    const list = await waitForEvent(page, "a", "error", { code: "FRAME_BLOCKED" });
    expect(types(list)).toEqual(["error"]);
    // Under load the impostor document may still be attaching when the error arrives: wait for it.
    const isImpostor = (f: Frame) => f.url().startsWith(world.stack.evilUrl);
    const frame = page.frames().find(isImpostor) ?? (await page.waitForEvent("framenavigated", { predicate: isImpostor, timeout: 20_000 }));
    await frame.waitForFunction(() => Array.isArray((window as unknown as { received?: unknown[] }).received));
    // Give a late token message every chance to arrive before looking.
    await sleep(300);
    expect(await frame.evaluate(() => (window as unknown as { received: unknown[] }).received)).toEqual([]);
    expect(await tokenCalls(page)).toBe(0);
  });

  it("refuses a frame that speaks another protocol version (PROTOCOL_MISMATCH) and sends it nothing", async () => {
    // A stale or future bootstrap: the real page with its `ready` saying v:2 (CSP dropped so the edited script runs).
    await world.context.route(`${world.stack.appUrl}/embed/${PARTNER_ID}`, async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace(`"jupid:ready",{v:${PROTOCOL_VERSION},`, `"jupid:ready",{v:${PROTOCOL_VERSION + 1},`);
      const headers = { ...response.headers() };
      delete headers["content-security-policy"];
      await route.fulfill({ response, body, headers });
    });
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a", token: world.stack.token() });
    const list = await waitForEvent(page, "a", "error", { code: "PROTOCOL_MISMATCH" });
    expect(types(list)).toEqual(["error"]);
    await sleep(300);
    // Nothing was sent: the frame still waits for its first message.
    expect(await (await frameIn(page, "#a")).textContent("#status")).toMatch(/Waiting for sign-in/);
  });
});

describe("messages the frame accepts", () => {
  async function signedIn(page: Page): Promise<{ frame: Frame; embedId: string }> {
    const name = await mount(page, { key: "a", container: "#a" });
    await waitForEvent(page, "a", "navigate");
    return { frame: await workspaceFrame(page, "#a", FIRST_RUN_PATH), embedId: embedIdOf(name) };
  }

  it("obeys navigate/signOut only from its parent window, from an allowed origin, for its own embed id", async () => {
    const page = await openHarness(world.context, world.stack);
    const { embedId } = await signedIn(page);
    const navigate = { type: "jupid:navigate", embedId, path: "/forged" };
    const signOut = { type: "jupid:signOut", embedId };

    // A sibling frame on the partner's own origin (another window, allowed origin).
    await page.evaluate(
      ({ messages, appUrl }) => {
        const sibling = document.createElement("iframe");
        document.body.append(sibling);
        const target = (document.querySelector("#a iframe") as HTMLIFrameElement).contentWindow as Window;
        // The function belongs to the sibling's realm, so the sibling is the message's source.
        const post = new (sibling.contentWindow as unknown as { Function: FunctionConstructor }).Function(
          "target",
          "message",
          "origin",
          "target.postMessage(message, origin)",
        );
        for (const message of messages) post(target, message, appUrl);
      },
      { messages: [navigate, signOut], appUrl: world.stack.appUrl },
    );
    // A frame on an origin no partner allows.
    await page.evaluate((src) => {
      const evil = document.createElement("iframe");
      evil.id = "evil";
      evil.src = src;
      document.body.append(evil);
    }, `${world.stack.evilUrl}/harness`);
    const evil = (await (await page.waitForSelector("#evil")).contentFrame()) as Frame;
    await evil.waitForLoadState();
    await evil.evaluate((messages) => {
      for (const message of messages) window.parent.frames[0]?.postMessage(message, "*");
    }, [navigate, signOut]);
    // The parent itself, but with another embed's id.
    await page.evaluate(
      ({ messages, appUrl }) => {
        const target = (document.querySelector("#a iframe") as HTMLIFrameElement).contentWindow as Window;
        for (const message of messages) target.postMessage({ ...message, embedId: "someone-else" }, appUrl);
      },
      { messages: [navigate, signOut], appUrl: world.stack.appUrl },
    );
    await sleep(500);

    const frame = await workspaceFrame(page, "#a", FIRST_RUN_PATH);
    expect(await frame.textContent("#path")).toBe(FIRST_RUN_PATH);
    // Still signed in: the frame kept its session.
    expect(await frame.evaluate(() => sessionStorage.length)).toBe(1);
    expect((await events(page, "a")).filter((e) => e.type === "navigate")).toHaveLength(1);

    // Control: the same message from the right window, origin and id is obeyed.
    await callHandle(page, "a", "navigate", "/reports");
    await waitForEvent(page, "a", "navigate", { path: "/reports" });
  });

  it("reports PROTOCOL_MISMATCH when the parent speaks another protocol version", async () => {
    const page = await openHarness(world.context, world.stack);
    const name = await mount(page, { key: "a", container: "#a", getToken: "fail" });
    await waitForEvent(page, "a", "ready");
    await page.evaluate(
      ({ embedId, appUrl }) => {
        const target = (document.querySelector("#a iframe") as HTMLIFrameElement).contentWindow as Window;
        target.postMessage({ type: "jupid:auth", embedId, v: 99 }, appUrl);
      },
      { embedId: embedIdOf(name), appUrl: world.stack.appUrl },
    );
    await waitForEvent(page, "a", "error", { code: "PROTOCOL_MISMATCH" });
  });
});
