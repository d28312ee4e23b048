/**
 * Concurrent bursts against the deployed API, and the figures they print.
 */
import type { ApiResponse } from "./http.ts";

export interface BurstResult {
  readonly responses: readonly ApiResponse[];
  readonly wallMs: number;
  /** `"<status> <code>"` -> count, e.g. {"200": 1, "401 TOKEN_REPLAYED": 49}. */
  readonly tally: Readonly<Record<string, number>>;
}

/**
 * Start every request before awaiting any of them. The requests are built
 * first (tokens minted), so the burst is only network and server time.
 */
export async function burst(requests: readonly (() => Promise<ApiResponse>)[]): Promise<BurstResult> {
  const started = performance.now();
  const responses = await Promise.all(requests.map((send) => send()));
  const wallMs = Math.round(performance.now() - started);
  const tally: Record<string, number> = {};
  for (const response of responses) {
    const key = `${response.status}${response.errorCode ? ` ${response.errorCode}` : ""}`;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return { responses, wallMs, tally };
}

/**
 * Responses that no answer of the gateway itself explains: API Gateway
 * throttling (429), integration failures and timeouts (5xx). A burst with
 * any of them measured the emulator or the account, not the code.
 */
export function infrastructureFailures(result: BurstResult): ApiResponse[] {
  return result.responses.filter((response) => response.status === 429 || response.status >= 500);
}

/**
 * API Gateway throttles every method with a token bucket (the stack sets the
 * sign-in methods to rate 100/s, burst 200, lib/constructs/api.ts). Waiting
 * this long before a burst lets the bucket refill, in AWS and in the
 * emulator alike, so that bursts following each other are not throttled.
 */
export const THROTTLE_REFILL_MS = 2_500;

export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One line of figures, printed by every concurrency test. */
export function figures(name: string, values: Readonly<Record<string, number | string>>): string {
  return `[figures] ${name}: ${Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join(" ")}`;
}
