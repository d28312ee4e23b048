/**
 * The shape every measurement returns, and the one table `npm run bench`
 * prints from them.
 */

export interface Row {
  /** What was measured, e.g. "token verify: Jupid policy". */
  readonly name: string;
  /** Median, formatted with its unit. */
  readonly median: string;
  /** 90th percentile, formatted, where a row reports it (the per-engine browser rows). */
  readonly p90?: string;
  /** 99th percentile, formatted; "—" when a row has none (sizes, throughput). */
  readonly p99: string;
  /** Ratio against a baseline measured in the same run, naming the baseline. */
  readonly ratio: string;
  /** The goal from issue 6, or "reference" for a baseline row. */
  readonly goal: string;
  /** true/false against the goal; undefined for reference rows and skipped measurements. */
  readonly pass: boolean | undefined;
  /** The median as a number in `unit`, so that two results.json files can be compared. */
  readonly value?: number;
  readonly unit?: "ms" | "bytes" | "req/s";
}

export interface Measurement {
  readonly rows: Row[];
  /** Every number behind the rows, unformatted, for bench/results.json. */
  readonly data: Record<string, unknown>;
  /** How it was measured, and caveats worth printing under the table. */
  readonly notes: string[];
}

export function skipped(name: string, reason: string): Measurement {
  return {
    rows: [{ name, median: "—", p99: "—", ratio: "—", goal: `skipped: ${reason}`, pass: undefined }],
    data: { skipped: reason },
    notes: [],
  };
}

export function renderTable(rows: readonly Row[]): string {
  const header = ["measurement", "median", "p90", "p99", "ratio (same run)", "goal", "result"];
  const body = rows.map((r) => [r.name, r.median, r.p90 ?? "—", r.p99, r.ratio, r.goal, r.pass === undefined ? "" : r.pass ? "PASS" : "FAIL"]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 || i === 5 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(header), rule, ...body.map(line)].join("\n");
}
