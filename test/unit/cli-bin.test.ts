/**
 * The launcher as operators start it: `npx jupid-embed` (npm finds the
 * project's own bin), `npm run cli --`, and `node bin/jupid-embed.mjs` under
 * Node 22 — plus the clear refusal on an older Node.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../lib/operator/environment.ts";

const exec = promisify(execFile);
const BIN_DIR = join(REPO_ROOT, "node_modules", ".bin");
const NODE22 = join(BIN_DIR, "node");

/** PATH as `npm` sets it up inside the repo: the project's node (22) first. */
const env = { ...process.env, PATH: `${BIN_DIR}:${process.env.PATH ?? ""}`, npm_config_update_notifier: "false" };

async function sh(file: string, args: string[], extraEnv: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(file, args, { cwd: REPO_ROOT, env: { ...env, ...extraEnv }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failure.code === "number" ? failure.code : -1, stdout: failure.stdout ?? "", stderr: failure.stderr ?? "" };
  }
}

describe("bin/jupid-embed.mjs", () => {
  it("runs under the project's Node 22 and lists partners as JSON", async () => {
    const run = await sh(NODE22, ["bin/jupid-embed.mjs", "partners", "list", "--env", "staging", "--json"]);
    expect(run.code).toBe(0);
    const listed = JSON.parse(run.stdout) as { environment: string; partners: Array<{ id: string }> };
    expect(listed.environment).toBe("staging");
    expect(listed.partners.map((p) => p.id)).toContain("acme-books");
  });

  it("passes the command's exit status through (usage error = 2)", async () => {
    const run = await sh(NODE22, ["bin/jupid-embed.mjs", "partners", "show"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("missing <partnerId>");
  });

  it("is found by `npx jupid-embed` inside the repo", async () => {
    const run = await sh("npx", ["--no-install", "jupid-embed", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: jupid-embed <command>");
  });

  it("runs as `npm run cli -- <command>`", async () => {
    const run = await sh("npm", ["run", "--silent", "cli", "--", "partners", "show", "globex", "--env", "staging", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ environment: "staging", partner: { id: "globex", maxTokenLifetimeSeconds: 120 } });
  });

  it("refuses an old Node with a message saying how to run it", async () => {
    const oldNode = ["/usr/bin/node", "/bin/node"].find((candidate) => existsSync(candidate));
    const version = oldNode ? (await sh(oldNode, ["--version"])).stdout.trim() : "";
    if (!oldNode || !/^v(1\d|20|21)\./.test(version)) {
      // This machine has no Node < 22 besides the project's: prove the check itself with a fake version.
      const run = await sh(NODE22, ["--input-type=module", "-e", "Object.defineProperty(process.versions, 'node', { value: '20.0.0' }); await import('./bin/jupid-embed.mjs');"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("needs Node.js >= 22");
      return;
    }
    const run = await sh(oldNode, ["bin/jupid-embed.mjs", "--help"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("needs Node.js >= 22");
    expect(run.stderr).toContain("npx jupid-embed");
  });
});
