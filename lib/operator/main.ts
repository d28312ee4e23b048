/**
 * `jupid-embed <group> <command>`: the operator CLI's dispatcher. bin/jupid-embed.mjs
 * calls {@link main}; tests call {@link runCli} with fake streams, clock and env.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { formatHelp, parseCommandArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { doctorCommands } from "./commands/doctor.ts";
import { partnerCommands } from "./commands/partners.ts";
import { secretCommands } from "./commands/secret.ts";
import { tokenCommands } from "./commands/token.ts";
import { REPO_ROOT } from "./environment.ts";
import { CliError, type CliIo, columns, EXIT, Output } from "./io.ts";

export const COMMANDS: readonly Command[] = [...partnerCommands, ...secretCommands, ...tokenCommands, ...doctorCommands];
const GROUPS = ["partners", "secret", "token", "doctor"] as const;

export function globalHelp(): string {
  return [
    "Usage: jupid-embed <command> [options]",
    "",
    "Operator CLI for Jupid Embed: partners, their signing secrets, test tokens and token diagnosis.",
    "",
    "Commands:",
    columns(
      COMMANDS.map((c) => [c.name, c.summary]),
      "  ",
    ),
    "",
    "Run `jupid-embed <command> --help` for the options of one command. Every command takes --json and --help.",
    "",
    "Exit status:",
    columns(
      [
        ["0", "done; for token doctor: the token would pass; for doctor origin: the origin may embed the partner"],
        ["1", "failed: token refused or undecidable, partner or secret not found, AWS error"],
        ["2", "usage error: unknown command or option, missing argument"],
        ["3", "the partner file is unreadable or invalid"],
        ["4", "refused for safety: needs --yes or --force, or the partner is still configured"],
      ],
      "  ",
    ),
    "",
    "Environment:",
    columns(
      [
        ["JUPID_ENV", "default --env for partners and token commands (secret commands need --env)"],
        ["JUPID_PARTNERS_FILE", "partner file instead of config/partners.<env>.json"],
        ["JUPID_LOCAL_SECRETS", "the local gateway's secrets file (default .local/secrets.<env>.json)"],
        ["JUPID_SECRET_PREFIX", "Secrets Manager name prefix (default jupid-embed/<env>/partners/)"],
        ["AWS_ENDPOINT_URL", "send AWS calls to an emulator (MiniStack, LocalStack)"],
        ["AWS_REGION, AWS_PROFILE", "the usual AWS SDK settings"],
      ],
      "  ",
    ),
    "",
  ].join("\n");
}

function groupHelp(group: string): string {
  const commands = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  return [
    `Usage: jupid-embed ${group} <${commands.map((c) => c.name.split(" ")[1]).join("|")}> [options]`,
    "",
    columns(
      commands.map((c) => [c.name, c.summary]),
      "  ",
    ),
    "",
    `Run \`jupid-embed ${group} <command> --help\` for its options.`,
    "",
  ].join("\n");
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Run one command line; returns the exit status. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes("--json");
  const out = new Output(io, json);
  const [first, second, ...rest] = argv;
  try {
    if (first === undefined) {
      io.stderr.write(globalHelp());
      return EXIT.USAGE;
    }
    if (first === "--help" || first === "-h" || (first === "help" && second === undefined)) {
      io.stdout.write(globalHelp());
      return EXIT.OK;
    }
    if (first === "--version" || first === "-v") {
      out.print(version());
      return EXIT.OK;
    }
    if (first === "help") return runCli([...argv.slice(1), "--help"], io);
    if (!(GROUPS as readonly string[]).includes(first)) {
      throw new CliError("USAGE", `unknown command "${first}"`, EXIT.USAGE, "run `jupid-embed --help` for the list of commands");
    }
    if (second === undefined || second === "--help" || second === "-h") {
      const help = groupHelp(first);
      if (second === undefined) {
        io.stderr.write(help);
        return EXIT.USAGE;
      }
      io.stdout.write(help);
      return EXIT.OK;
    }
    const command = COMMANDS.find((c) => c.name === `${first} ${second}`);
    if (!command) {
      throw new CliError("USAGE", `unknown command "${first} ${second}"`, EXIT.USAGE, `run \`jupid-embed ${first} --help\``);
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout.write(formatHelp(command));
      return EXIT.OK;
    }
    try {
      const parsed = parseCommandArgs(rest, command.options, command.name);
      return await command.run(parsed, { io, out });
    } catch (error) {
      if (error instanceof CliError && error.exitCode === EXIT.USAGE && !error.hint) {
        throw new CliError(error.code, error.message, error.exitCode, `see \`jupid-embed ${command.name} --help\``);
      }
      throw error;
    }
  } catch (error) {
    if (error instanceof CliError) return out.fail(error);
    const detail = io.env.JUPID_DEBUG ? `\n${(error as Error).stack ?? ""}` : "";
    return out.fail(
      new CliError("INTERNAL", `unexpected failure: ${error instanceof Error ? error.message : String(error)}${detail}`, EXIT.FAILED, "set JUPID_DEBUG=1 for a stack trace"),
    );
  }
}

/** The process entry: real streams, environment and clock. */
export async function main(argv: readonly string[]): Promise<number> {
  return runCli(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    env: process.env,
    cwd: process.cwd(),
    now: Date.now,
  });
}
