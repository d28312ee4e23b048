/**
 * The operator runbook's "try it locally" recipe (docs/operator-runbook.md,
 * step 1), as written: the partner JSON of the runbook added to a copy of the
 * local partner file with the documented local origin, the real `npm start`
 * entry point on a random JUPID_PORT, then `doctor origin`, `token mint`,
 * `token doctor` and the curl sign-in (the redirect entry's form post), in that order.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBuffered } from "../../lib/operator/buffered-io.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");
const RUNBOOK = readFileSync(join(ROOT, "docs", "operator-runbook.md"), "utf8");
const LOCAL_ORIGIN = "http://localhost:8000";
const dir = mkdtempSync(join(tmpdir(), "jupid-runbook-"));
const env = { JUPID_PARTNERS_FILE: join(dir, "partners.local.json"), JUPID_LOCAL_SECRETS: join(dir, "secrets.json") };
let child: ChildProcess;
let port = "";

beforeAll(async () => {
  const partnerJson = /### 1\. Config change[\s\S]*?```json\n([\s\S]*?)```/.exec(RUNBOOK)?.[1];
  expect(partnerJson, "the runbook's partner JSON").toBeDefined();
  expect(RUNBOOK).toContain(`"allowedOrigins": ["${LOCAL_ORIGIN}"]`);
  const local = JSON.parse(readFileSync(join(ROOT, "config", "partners.local.json"), "utf8"));
  local.partners.push({ ...JSON.parse(partnerJson as string), allowedOrigins: [LOCAL_ORIGIN] });
  writeFileSync(env.JUPID_PARTNERS_FILE, JSON.stringify(local));

  child = spawn(join(ROOT, "node_modules", ".bin", "tsx"), ["lambdas/local/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, ...env, JUPID_PORT: "0", PARTNER_PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const deadline = Date.now() + 20_000;
  while (!port && Date.now() < deadline) {
    port = /Jupid local gateway\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1] ?? "";
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!port) throw new Error(`npm start did not come up:\n${output}`);
});

afterAll(() => {
  child?.kill("SIGTERM");
});

describe("operator runbook: try it locally", () => {
  it("doctor origin, token mint, token doctor and the curl sign-in all pass", async () => {
    const cliEnv = { ...env, JUPID_PORT: port };
    expect((await runBuffered(["doctor", "origin", "northwind", LOCAL_ORIGIN], { env: cliEnv })).code).toBe(0);
    const mint = await runBuffered(["token", "mint", "northwind", "--sub", "smoke-1", "--email", "smoke@example.com"], { env: cliEnv });
    expect(mint.code).toBe(0);
    const token = mint.stdout.trim();
    const doctor = await runBuffered(["token", "doctor", token, "--origin", LOCAL_ORIGIN], { env: cliEnv });
    expect(doctor.code, doctor.stdout).toBe(0);
    const response = await fetch(`http://127.0.0.1:${port}/partner/northwind/enter`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: LOCAL_ORIGIN },
      body: new URLSearchParams({ token, path: "/dashboard" }),
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/app/onboarding/connect-accounts");
  });
});
