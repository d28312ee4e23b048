/**
 * An in-memory {@link CliIo}: run commands from code (tests, scripts) and read
 * what they printed. `tty: true` makes stdout look like a terminal.
 */
import type { CliIo } from "./io.ts";
import { runCli } from "./main.ts";

export interface BufferedIoOptions {
  readonly tty?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  readonly now?: () => number;
  readonly stdin?: string;
}

export interface BufferedRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = Record<string, unknown>>(): T;
}

export function bufferedIo(options: BufferedIoOptions = {}): CliIo & { readonly out: string[]; readonly err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: { write: (text: string) => out.push(text), isTTY: options.tty === true },
    stderr: { write: (text: string) => err.push(text) },
    readStdin: async () => options.stdin ?? "",
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    now: options.now ?? Date.now,
  };
}

/** Run one command line in-process with a {@link bufferedIo}. */
export async function runBuffered(argv: readonly string[], options: BufferedIoOptions = {}): Promise<BufferedRun> {
  const io = bufferedIo(options);
  const code = await runCli(argv, io);
  const stdout = io.out.join("");
  const stderr = io.err.join("");
  return {
    code,
    stdout,
    stderr,
    json: <T,>() => JSON.parse(stdout) as T,
  };
}
