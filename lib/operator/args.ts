/**
 * Command-line parsing (node:util parseArgs, strict) and the help text that
 * is generated from the same option table, so the two cannot drift.
 */
import { parseArgs } from "node:util";
import { columns, usageError } from "./io.ts";

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  /** Placeholder shown in help, e.g. `<env>`. */
  readonly value?: string;
  readonly description: string;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  json: { type: "boolean", description: "print one JSON document on stdout (errors too); no progress lines" },
  help: { type: "boolean", short: "h", description: "show this help" },
} as const satisfies OptionTable;

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** Parse `args` against `options` (plus {@link COMMON_OPTIONS}); unknown options and bad values are usage errors. */
export function parseCommandArgs(args: readonly string[], options: OptionTable, helpCommand: string): ParsedArgs {
  const table: OptionTable = { ...options, ...COMMON_OPTIONS };
  const config: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, spec] of Object.entries(table)) config[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}) };
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: config, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (error) {
    const message = (error as Error).message.split("\n")[0] ?? "invalid arguments";
    throw usageError(message, `see \`jupid-embed ${helpCommand} --help\``);
  }
}

export function stringOption(parsed: ParsedArgs, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === "string" ? value : undefined;
}

export function flag(parsed: ParsedArgs, name: string): boolean {
  return parsed.values[name] === true;
}

/** An integer option within bounds, or undefined when absent. */
export function integerOption(parsed: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const text = stringOption(parsed, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw usageError(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/** Exactly the named positionals, in order; too few or too many is a usage error. */
export function positionals(parsed: ParsedArgs, names: readonly string[], helpCommand: string): string[] {
  if (parsed.positionals.length < names.length) {
    throw usageError(`missing <${names[parsed.positionals.length]}>`, `usage: jupid-embed ${helpCommand} --help`);
  }
  if (parsed.positionals.length > names.length) {
    throw usageError(`unexpected argument "${parsed.positionals[names.length]}"`, `see \`jupid-embed ${helpCommand} --help\``);
  }
  return [...parsed.positionals];
}

export interface HelpSpec {
  readonly usage: string;
  readonly summary: string;
  readonly details?: string;
  readonly options: OptionTable;
  readonly examples?: readonly string[];
}

/** The `--help` text of one command. */
export function formatHelp(spec: HelpSpec): string {
  const table: OptionTable = { ...spec.options, ...COMMON_OPTIONS };
  const rows = Object.entries(table).map(([name, option]) => [
    `${option.short ? `-${option.short}, ` : "    "}--${name}${option.value ? ` ${option.value}` : ""}`,
    option.description,
  ]);
  return [
    `Usage: jupid-embed ${spec.usage}`,
    "",
    spec.summary,
    ...(spec.details ? ["", spec.details] : []),
    "",
    "Options:",
    columns(rows, "  "),
    ...(spec.examples?.length ? ["", "Examples:", ...spec.examples.map((line) => `  ${line}`)] : []),
    "",
  ].join("\n");
}
