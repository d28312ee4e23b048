/**
 * Sequential network round trips from `mount()` to `authenticated`, counted from
 * the browser's own request events with 100 ms added to every request of every
 * frame. The design minimum is 3: the frame document (while getToken runs), one
 * sign-in request, the workspace document (which needs no data request: the
 * sign-in answer carries its first view).
 */
import type { Page, Request } from "playwright-core";
import { describe, expect, it } from "vitest";
import { mount, openHarness, waitForEvent } from "./support.ts";
import { useBrowserWorld } from "./world.ts";

const world = useBrowserWorld();
const LATENCY_MS = 100;

interface Timed {
  readonly url: string;
  readonly start: number;
  end: number;
}

/** Requests of every frame from now on, with their start and finish times. */
function record(page: Page): Timed[] {
  const list: Timed[] = [];
  const byRequest = new Map<Request, Timed>();
  page.on("request", (request) => {
    const timed = { url: request.url(), start: performance.now(), end: Number.POSITIVE_INFINITY };
    byRequest.set(request, timed);
    list.push(timed);
  });
  const done = (request: Request) => {
    const timed = byRequest.get(request);
    if (timed) timed.end = performance.now();
  };
  page.on("requestfinished", done);
  page.on("requestfailed", done);
  return list;
}

/** The longest chain of requests each of which started after the previous one finished. */
function sequentialRoundTrips(requests: readonly Timed[]): number {
  const sorted = [...requests].sort((a, b) => a.end - b.end);
  const depth = new Map<Timed, number>();
  for (const request of sorted) {
    const before = sorted.filter((other) => other.end <= request.start).map((other) => depth.get(other) ?? 1);
    depth.set(request, 1 + Math.max(0, ...before));
  }
  return Math.max(0, ...depth.values());
}

describe(`round trips from mount() to authenticated (+${LATENCY_MS} ms per request)`, () => {
  for (const path of ["token", "getToken"] as const) {
    it(`${path}: at most 3 sequential round trips`, async () => {
      const page = await openHarness(world.context, world.stack);
      await world.context.route("**/*", (route) => setTimeout(() => void route.continue().catch(() => undefined), LATENCY_MS));
      const token = path === "token" ? world.stack.token() : undefined;
      const requests = record(page);
      await mount(page, { key: "a", container: "#a", ...(token ? { token, getToken: "none" } : {}) });
      await waitForEvent(page, "a", "authenticated");
      await world.context.unrouteAll({ behavior: "ignoreErrors" });
      const finished = requests.filter((r) => Number.isFinite(r.end));
      const trips = sequentialRoundTrips(finished);
      console.log(`[round trips] ${path}: ${trips} sequential (${finished.map((r) => new URL(r.url).pathname).join(", ")})`);
      expect(finished.length).toBeGreaterThanOrEqual(3);
      expect(trips).toBeLessThanOrEqual(3);
    });
  }
});
