/**
 * Small statistics and formatting helpers shared by the measurements: one
 * definition of median and p99 for every row of the table.
 */

/** The q-quantile (0..1) of `values` by the nearest-rank method; NaN when empty. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export const median = (values: ArrayLike<number>): number => quantile(values, 0.5);
export const p90 = (values: ArrayLike<number>): number => quantile(values, 0.9);
export const p99 = (values: ArrayLike<number>): number => quantile(values, 0.99);

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p90: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

export function summarize(values: ArrayLike<number>): Summary {
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { n: values.length, median: median(values), p90: p90(values), p99: p99(values), min, max, mean: values.length ? sum / values.length : Number.NaN };
}

/** Milliseconds with a precision that suits their size: 0.0042 ms, 0.42 ms, 4.2 ms, 42 ms. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "—";
  if (value < 0.01) return `${(value * 1000).toFixed(1)} µs`;
  if (value < 1) return `${(value * 1000).toFixed(0)} µs`;
  if (value < 10) return `${value.toFixed(2)} ms`;
  if (value < 100) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(0)} ms`;
}

export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(2)} KB`;
}

export function perSecond(value: number): string {
  return `${Math.round(value).toLocaleString("en-US")}/s`;
}

export function ratio(value: number, baseline: number, label: string): string {
  if (!Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return "—";
  const r = value / baseline;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}× ${label}`;
}

export const sleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));
