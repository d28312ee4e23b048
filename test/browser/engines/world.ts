/**
 * Vitest hooks for engine-matrix test files (kept apart from the drivers,
 * which the bench imports outside vitest). Inside `describe.each(ENGINE_VARIANTS)`:
 *
 *   const world = engineWorld(variant);            // one launch for the describe block
 *   it("…", async () => { await world.profile.open(…); });   // a fresh profile per test
 */
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import type { BrowserProfile, Engine, EngineVariant } from "./engine.ts";
import { launchEngine } from "./index.ts";

export interface EngineWorld {
  /** The launched engine (after `beforeAll`). */
  readonly engine: Engine;
  /** A fresh profile for the current test (after `beforeEach`), closed after it. */
  readonly profile: BrowserProfile;
}

/**
 * Registers hooks that launch `variant` once for the enclosing describe
 * block (printing the launch time as a `[figures]` line), give each test a
 * fresh profile, and close everything afterwards. Read the fields inside tests.
 */
export function engineWorld(variant: EngineVariant): EngineWorld {
  const world = {} as { engine: Engine; profile: BrowserProfile };
  beforeAll(async () => {
    const started = performance.now();
    world.engine = await launchEngine(variant);
    console.log(`[figures] ${variant}: ${world.engine.description}, launched in ${Math.round(performance.now() - started)} ms`);
  });
  afterAll(async () => {
    await world.engine?.close();
  });
  beforeEach(async () => {
    world.profile = await world.engine.newProfile();
  });
  afterEach(async () => {
    await world.profile?.close();
  });
  return world;
}
