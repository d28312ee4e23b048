/** Vitest hooks for browser test files (kept apart from support.ts, which the benchmarks import outside vitest). */
import type { Browser, BrowserContext, BrowserContextOptions } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { launchChromium, type Stack, startStack } from "./support.ts";

/** What every browser test file shares: one stack and one Chromium per file, a fresh context per test. */
export interface BrowserWorld {
  stack: Stack;
  browser: Browser;
  context: BrowserContext;
}

/** Registers the hooks that start and stop a {@link BrowserWorld}; read its fields inside tests. */
export function useBrowserWorld(contextOptions: BrowserContextOptions = {}): BrowserWorld {
  const world = {} as BrowserWorld;
  beforeAll(async () => {
    [world.stack, world.browser] = await Promise.all([startStack(), launchChromium()]);
  });
  afterAll(async () => {
    await world.browser?.close();
    await world.stack?.close();
  });
  beforeEach(async () => {
    world.context = await world.browser.newContext(contextOptions);
  });
  afterEach(async () => {
    await world.context?.close();
  });
  return world;
}
