/**
 * The operator CLI's front door: help everywhere, exit statuses, usage errors,
 * --json errors. Commands run in-process with buffered streams.
 */
import { describe, expect, it } from "vitest";
import { runBuffered } from "../../lib/operator/buffered-io.ts";
import { COMMANDS } from "../../lib/operator/main.ts";

describe("jupid-embed help", () => {
  it("--help lists every command, the exit statuses and the environment variables", async () => {
    const run = await runBuffered(["--help"]);
    expect(run.code).toBe(0);
    for (const command of COMMANDS) expect(run.stdout).toContain(command.name);
    expect(run.stdout).toMatch(/Exit status:[\s\S]*0 {2}done[\s\S]*1 {2}failed[\s\S]*2 {2}usage error[\s\S]*3 {2}the partner file[\s\S]*4 {2}refused/);
    for (const name of ["JUPID_ENV", "JUPID_PARTNERS_FILE", "JUPID_LOCAL_SECRETS", "JUPID_SECRET_PREFIX", "AWS_ENDPOINT_URL"]) {
      expect(run.stdout).toContain(name);
    }
  });

  it("without arguments prints the help to stderr and exits 2", async () => {
    const run = await runBuffered([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("Usage: jupid-embed <command>");
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))("%s --help documents every option and exits 0", async (name, command) => {
    for (const argv of [[...name.split(" "), "--help"], [...name.split(" "), "x", "-h"], ["help", ...name.split(" ")]]) {
      const run = await runBuffered(argv);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: jupid-embed ${command.usage}`);
      for (const option of [...Object.keys(command.options), "json", "help"]) expect(run.stdout).toContain(`--${option}`);
    }
  });

  it.each(["partners", "secret", "token"])("group %s: --help lists its commands; nothing else is a usage error", async (group) => {
    const help = await runBuffered([group, "--help"]);
    expect(help.code).toBe(0);
    for (const command of COMMANDS.filter((c) => c.name.startsWith(`${group} `))) expect(help.stdout).toContain(command.name);
    const bare = await runBuffered([group]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain(`Usage: jupid-embed ${group}`);
  });

  it("--version prints the package version", async () => {
    const run = await runBuffered(["--version"]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("usage errors exit 2 with a hint", () => {
  it.each([
    [["frobnicate"], /unknown command "frobnicate"/],
    [["partners", "delete"], /unknown command "partners delete"/],
    [["partners", "list", "--nope"], /Unknown option '--nope'/],
    [["partners", "show"], /missing <partnerId>/],
    [["partners", "show", "a", "b"], /unexpected argument "b"/],
    [["partners", "list", "--env", "prod"], /unknown environment "prod"/],
    [["secret", "show", "acme-books"], /--env is required/],
    [["token", "mint", "acme-books"], /--sub is required/],
    [["token", "mint", "acme-books", "--sub", "u", "--ttl", "0"], /--ttl must be an integer from 1 to 900/],
    [["token", "mint", "acme-books", "--sub", "u", "--payload", "[1]"], /--payload must be a JSON object/],
    [["token", "mint", "Not A Partner", "--sub", "u"], /is not a partner id/],
    [["token", "doctor", "x.y.z", "--at", "yesterday"], /--at must be an ISO 8601 time/],
    [["secret", "retire", "gone", "--env", "staging", "--yes", "--recovery-days", "3"], /--recovery-days must be an integer from 7 to 30/],
  ])("%j", async (argv, message) => {
    const run = await runBuffered(argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/^error: /);
    expect(run.stderr).toMatch(/hint: |Usage: /);
  });

  it("with --json the error is a JSON document on stdout", async () => {
    const run = await runBuffered(["partners", "show", "--json"]);
    expect(run.code).toBe(2);
    expect(run.json()).toEqual({ error: { code: "USAGE", message: "missing <partnerId>", hint: expect.any(String) } });
    expect(run.stderr).toBe("");
  });
});
