/**
 * The SDK's lifecycle in headless Chromium: teardown that leaves nothing
 * behind (counted by an instrumented page), React StrictMode's
 * mount/destroy/mount, and auto-resize without runaway growth.
 */
import type { Frame, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  callHandle,
  events,
  FIRST_RUN_PATH,
  mount,
  newUser,
  openHarness,
  sleep,
  tokenCalls,
  types,
  waitForEvent,
  workspaceFrame,
} from "./support.ts";
import { useBrowserWorld } from "./world.ts";

const world = useBrowserWorld({ viewport: { width: 1280, height: 800 } });

interface Live {
  listeners: string[];
  timeouts: number;
  intervals: number;
  frames: number;
  observers: number;
}
const NOTHING: Live = { listeners: [], timeouts: 0, intervals: 0, frames: 0, observers: 0 };
const live = (page: Page) => page.evaluate(() => (window as unknown as { __sdkLive(): Live }).__sdkLive());
const iframeCount = (page: Page, container: string) => page.$$eval(`${container} iframe`, (list) => list.length);

describe("destroy()", () => {
  it("removes the iframe and every listener and timer it created; is idempotent; the next mount needs a fresh token", async () => {
    const page = await openHarness(world.context, world.stack);
    expect(await live(page)).toEqual(NOTHING);
    const user = newUser();
    await mount(page, { key: "a", container: "#a", user });
    // While the handshake runs: the message and load listeners and the handshake timer exist (and are counted).
    const during = await live(page);
    expect(during.listeners.sort()).toEqual(["iframe:load", "window:message"]);
    expect(during.timeouts).toBeGreaterThanOrEqual(1);
    await waitForEvent(page, "a", "navigate");
    await sleep(100);
    expect((await live(page)).timeouts).toBe(0);

    await callHandle(page, "a", "destroy");
    await callHandle(page, "a", "destroy");
    expect(await live(page)).toEqual(NOTHING);
    expect(await iframeCount(page, "#a")).toBe(0);
    const list = await events(page, "a");
    expect(types(list).filter((t) => t === "destroyed")).toHaveLength(1);
    expect(list.at(-1)).toEqual({ type: "destroyed" });

    // A session belongs to its mount: a new mount, even for the same user, starts from a fresh token.
    const calls = await tokenCalls(page);
    await mount(page, { key: "b", container: "#a", user });
    expect(await waitForEvent(page, "b", "authenticated")).toContainEqual({ type: "authenticated", firstRun: false, storage: "frame" });
    expect(await tokenCalls(page)).toBe(calls + 1);
  });

  it("mid-handshake leaves nothing behind and nothing fires later", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a" });
    await callHandle(page, "a", "destroy");
    expect(await live(page)).toEqual(NOTHING);
    await sleep(3_000); // longer than the FRAME_BLOCKED grace
    expect(await events(page, "a")).toEqual([{ type: "destroyed" }]);
    // getToken was asked once, right after mount(); nothing after destroy().
    expect(await tokenCalls(page)).toBe(1);
    expect(await live(page)).toEqual(NOTHING);
  });

  it("on(type, fn) returns an unsubscribe function", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a" });
    const seen = await page.evaluate(async () => {
      const handle = (window as unknown as { harness: { handles: Record<string, { on(t: string, f: (e: unknown) => void): () => void }> } })
        .harness.handles.a;
      const got: string[] = [];
      const off = handle?.on("ready", () => got.push("kept"));
      handle?.on("ready", () => got.push("second"));
      const offEarly = handle?.on("ready", () => got.push("removed"));
      offEarly?.();
      await new Promise<void>((resolve) => handle?.on("authenticated", () => resolve()));
      off?.();
      return got;
    });
    expect(seen).toEqual(["kept", "second"]);
  });
});

describe("React StrictMode", () => {
  it("mount → destroy → mount in one tick yields one working embed and no leftovers", async () => {
    const page = await openHarness(world.context, world.stack);
    await page.evaluate(() => {
      const harness = (window as unknown as {
        harness: { mount(o: unknown): string; handles: Record<string, { destroy(): void }> };
      }).harness;
      const options = { container: "#a", partnerId: "browser-acme", user: { sub: "strict", name: "Strict Mode", email: "s@acme.example" } };
      harness.mount({ ...options, key: "first" });
      harness.handles.first?.destroy();
      harness.mount({ ...options, key: "second" });
    });
    await waitForEvent(page, "second", "navigate");
    // The first frame may already have said `ready` before it was replaced; it must not get further.
    const first = await events(page, "first");
    expect(first.at(-1)).toEqual({ type: "destroyed" });
    expect(types(first).filter((type) => type !== "ready")).toEqual(["destroyed"]);
    expect(types(await events(page, "second")).slice(0, 3)).toEqual(["ready", "authenticated", "navigate"]);
    expect(await iframeCount(page, "#a")).toBe(1);
    expect(await tokenCalls(page)).toBe(1);
    expect((await live(page)).listeners.sort()).toEqual(["iframe:load", "window:message"]);
  });

  it("mounting again into the same container without destroy() replaces the first embed", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "first", container: "#a" });
    await mount(page, { key: "second", container: "#a" });
    await waitForEvent(page, "second", "authenticated");
    // The first frame may already have said `ready` before it was replaced; it must not get further.
    const first = await events(page, "first");
    expect(first.at(-1)).toEqual({ type: "destroyed" });
    expect(types(first).filter((type) => type !== "ready")).toEqual(["destroyed"]);
    expect(await iframeCount(page, "#a")).toBe(1);
    expect((await live(page)).listeners.sort()).toEqual(["iframe:load", "window:message"]);
  });
});

describe("auto-resize", () => {
  const iframeHeight = (page: Page) => page.$eval("#auto iframe", (el) => el.getBoundingClientRect().height);
  const contentHeight = (frame: Frame) =>
    frame.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height));
  async function settle(page: Page): Promise<number> {
    let last = -1;
    for (let i = 0; i < 40; i++) {
      const now = await iframeHeight(page);
      if (now === last) return now;
      last = now;
      await sleep(150);
    }
    throw new Error("iframe height never settled");
  }

  it("follows the content, shrinks with hysteresis, caps at maxHeight and stops runaway growth", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#auto", autoResize: { minHeight: 150, maxHeight: 2400 } });
    await waitForEvent(page, "a", "resize");
    const frame = await workspaceFrame(page, "#auto", FIRST_RUN_PATH);
    const initial = await settle(page);
    expect(initial).toBe(await contentHeight(frame));
    expect(initial).toBeGreaterThan(150);

    // Content grows: the frame grows with it.
    await frame.evaluate(() => {
      const block = document.createElement("div");
      block.id = "block";
      block.style.height = "900px";
      document.body.append(block);
    });
    expect(await settle(page)).toBe(initial + 900);

    // Shrinks of 16 px or less are ignored (no jitter); larger ones are followed.
    await frame.evaluate(() => ((document.getElementById("block") as HTMLElement).style.height = "890px"));
    await sleep(300);
    expect(await settle(page)).toBe(initial + 900);
    await frame.evaluate(() => ((document.getElementById("block") as HTMLElement).style.height = "400px"));
    expect(await settle(page)).toBe(initial + 400);

    // Content sized by the frame itself (always 40 px taller than the viewport): growth stops after a few steps.
    const before = initial + 400;
    await frame.evaluate(() => {
      (document.getElementById("block") as HTMLElement).remove();
      document.body.style.minHeight = "calc(100vh + 40px)";
    });
    const capped = await settle(page);
    await sleep(1_000);
    expect(await iframeHeight(page)).toBe(capped);
    expect(capped).toBeGreaterThan(before);
    expect(capped).toBeLessThanOrEqual(before + 3 * 40);

    // Back to normal content, then far more than maxHeight.
    await frame.evaluate(() => {
      document.body.style.minHeight = "";
      const block = document.createElement("div");
      block.style.height = "5000px";
      document.body.append(block);
    });
    expect(await settle(page)).toBe(2400);
    const resizes = (await events(page, "a")).filter((e) => e.type === "resize");
    expect(resizes.at(-1)).toEqual({ type: "resize", height: 2400 });
    expect(resizes.length).toBeLessThan(20);
  });

  it("without autoResize the iframe fills its container", async () => {
    const page = await openHarness(world.context, world.stack);
    await mount(page, { key: "a", container: "#a" });
    await waitForEvent(page, "a", "navigate");
    const box = await page.$eval("#a", (el) => el.getBoundingClientRect().height - 2);
    expect(await page.$eval("#a iframe", (el) => el.getBoundingClientRect().height)).toBe(box);
  });
});
