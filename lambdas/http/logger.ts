/**
 * Structured JSON logs, one line per record. Callers pass named fields; there
 * is deliberately no way to log a request body, a query string or a header
 * map, which is where tokens and cookies live.
 */
type Level = "debug" | "info" | "warn" | "error";
type Field = string | number | boolean | null | undefined;

export type LogSink = (line: string) => void;
let sink: LogSink = (line) => process.stdout.write(`${line}\n`);

/** Redirect logs (tests capture them to prove no token is ever written). Returns the previous sink. */
export function setLogSink(next: LogSink): LogSink {
  const previous = sink;
  sink = next;
  return previous;
}

export function log(level: Level, message: string, fields: Record<string, Field> = {}): void {
  sink(JSON.stringify({ level, message, time: new Date().toISOString(), ...fields }));
}
