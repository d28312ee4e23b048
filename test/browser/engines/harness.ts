/**
 * The harness page of test/browser/support.ts (`<harnessUrl>/harness`,
 * `window.harness`) driven through the engine-neutral {@link BrowserProfile}:
 * mount the embed, read the SDK events the page recorded, wait for one.
 */
import { type HarnessMount, newUser, PARTNER_ID, type RecordedEvent, type Stack } from "../support.ts";
import type { BrowserProfile } from "./engine.ts";

/** Open the harness page (default: the allowed harness origin). */
export function openHarnessPage(profile: BrowserProfile, stack: Stack, origin = stack.harnessUrl): Promise<void> {
  return profile.open(`${origin}/harness`);
}

/** `harness.mount(...)` in the page (defaults: {@link PARTNER_ID}, a fresh user); returns the iframe's name. */
export function mountEmbed(profile: BrowserProfile, options: HarnessMount): Promise<string> {
  return profile.evaluate<string>(`harness.mount(${JSON.stringify({ partnerId: PARTNER_ID, user: newUser(), ...options })})`);
}

/** Every SDK event the embed `key` emitted so far, in order (as its `onEvent` saw them). */
export async function embedEvents(profile: BrowserProfile, key: string): Promise<RecordedEvent[]> {
  return (await profile.evaluate<RecordedEvent[] | undefined>(`harness.events[${JSON.stringify(key)}]`)) ?? [];
}

/**
 * Wait until embed `key` has emitted an event whose type is one of `types`
 * and return the first such event. Waiting for the outcome set (e.g.
 * `["authenticated", "error", "authRequired"]`) makes a wrong outcome fail
 * at once, with the event, instead of at the timeout.
 */
export async function waitForEmbedEvent(
  profile: BrowserProfile,
  key: string,
  types: string | readonly string[],
  options: { timeout?: number } = {},
): Promise<RecordedEvent> {
  const wanted = JSON.stringify(typeof types === "string" ? [types] : types);
  return profile.waitFor<RecordedEvent>(`(harness.events[${JSON.stringify(key)}] || []).find((e) => ${wanted}.includes(e.type))`, options);
}

/** A message the harness page received (`{origin, data}` of its `message` events, every sender). */
export interface HostMessage {
  readonly origin: string;
  readonly data: unknown;
}

/** Every message the harness page has received so far: what a host page can learn from the embed. */
export async function hostMessages(profile: BrowserProfile): Promise<HostMessage[]> {
  return (await profile.evaluate<HostMessage[]>("harness.messages")) ?? [];
}
