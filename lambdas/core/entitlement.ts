/** The usage-based free limit: a pure answer from a counter and the partner's threshold. */
import type { PartnerConfig } from "../../config/schema.ts";

export interface Entitlement {
  readonly metric: string;
  readonly used: number;
  readonly limit: number;
  readonly remaining: number;
  /** True once the user has used the whole free allowance: the app shows its paywall. */
  readonly paywall: boolean;
}

export function entitlement(freeLimit: PartnerConfig["freeLimit"], used: number): Entitlement {
  return {
    metric: freeLimit.metric,
    used,
    limit: freeLimit.threshold,
    remaining: Math.max(0, freeLimit.threshold - used),
    paywall: used >= freeLimit.threshold,
  };
}
