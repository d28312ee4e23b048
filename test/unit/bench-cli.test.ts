/** `npm run bench -- --help` prints the options and starts nothing; an unknown option is refused with them. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const bench = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "bench", "run.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });

describe("bench/run.ts command line", () => {
  it("--help prints every option and measurement and exits 0 without measuring or writing results", () => {
    const result = bench("--help");
    expect(result.status).toBe(0);
    for (const word of ["--only=", "--quick", "--profile", "--help", "token", "sessions", "lambda", "dynamodb", "bench/README.md"]) {
      expect(result.stdout).toContain(word);
    }
    // Nothing started: the progress lines go to stderr, and there are none.
    expect(result.stderr).not.toContain("[bench]");
  });

  it("refuses an unknown option with exit 1 and the usage", () => {
    const result = bench("--fast");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('unknown option "--fast"');
    expect(result.stderr).toContain("--only=");
  });
});
