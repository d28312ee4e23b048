/**
 * What a command may touch: its streams, environment, clock and working
 * directory, injected so that tests run commands in-process with fakes.
 */

export interface CliIo {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  /** The whole of standard input (for `token doctor -`). */
  readonly readStdin: () => Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** HTTP for `partners oidc-check` (tests point it at a local provider); global fetch when absent. */
  readonly fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

/** Exit statuses, documented in `--help` and docs/operator-runbook.md. */
export const EXIT = {
  /** Done; for `token doctor`: the token would pass. */
  OK: 0,
  /** The command ran and the answer is no: the token would be refused, a secret or partner does not exist, an AWS call failed. */
  FAILED: 1,
  /** Bad command line (unknown command or option, missing argument). */
  USAGE: 2,
  /** The partner configuration file is unreadable or invalid. */
  CONFIG: 3,
  /** Refused for safety: needs --yes or --force, or the partner is still configured. */
  REFUSED: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the user can act on: a stable code, a message, and optionally what to do about it. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode = EXIT.FAILED,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const usageError = (message: string, hint?: string) => new CliError("USAGE", message, EXIT.USAGE, hint);

/** Output helpers bound to one invocation: `--json` silences progress and makes errors JSON too. */
export class Output {
  constructor(
    readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /** Is stdout a terminal (where a secret may be shown without --reveal)? */
  get interactive(): boolean {
    return this.io.stdout.isTTY === true;
  }

  /** A progress line on stderr ("reading secret ..."), never in --json mode. */
  progress(line: string): void {
    if (!this.json) this.io.stderr.write(`${line}\n`);
  }

  /** A warning on stderr, also in --json mode (scripts read stdout only). */
  warn(line: string): void {
    this.io.stderr.write(`warning: ${line}\n`);
  }

  /** Text for humans on stdout. */
  print(text: string): void {
    this.io.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** One JSON document on stdout. */
  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Report a failure the way the mode asks for; returns its exit status. */
  fail(error: CliError): ExitCode {
    if (this.json) {
      this.printJson({ error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } });
    } else {
      this.io.stderr.write(`error: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ""}`);
    }
    return error.exitCode;
  }
}

/** Lay out rows of cells in aligned columns (two spaces apart; the last column is not padded). */
export function columns(rows: readonly (readonly string[])[], indent = ""): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  "))
    .join("\n");
}

/** `2026-11-22T12:00:00Z` (seconds precision) for epoch seconds. */
export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(".000Z", "Z");
}

/** "in 4m 48s" / "2h 3m ago" relative to now, both in epoch seconds. */
export function relative(epochSeconds: number, nowSeconds: number): string {
  const delta = epochSeconds - nowSeconds;
  const text = duration(Math.abs(delta));
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

/** "4m 48s", "1d 2h", "12s". */
export function duration(totalSeconds: number): string {
  const s = Math.round(totalSeconds);
  if (s < 60) return `${s}s`;
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return minutes > 0 ? `${hours}h ${minutes}m` : `${hours}h`;
  return seconds > 0 ? `${minutes}m ${seconds}s` : `${minutes}m`;
}
