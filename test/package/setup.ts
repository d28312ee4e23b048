/**
 * Global set-up of the `package` project: build the SDK, `npm pack` sdk/, and
 * install the tarball into fresh projects in the temp directory, once per run:
 *
 * - the partner project: the tarball + React, Vite and Next.js at the versions
 *   of PARTNER_PROJECT_DEPENDENCIES, from the npm registry (npm's own cache
 *   makes a second run fast: `--prefer-offline`);
 * - the bare project: the tarball alone, offline, to count what it pulls in.
 *
 * The projects are removed at teardown; the tarball stays in .cache/package/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { buildSdk, SDK_DIR } from "../../scripts/build.ts";
import { PARTNER_PROJECT_DEPENDENCIES, ROOT, run } from "./support.ts";

const INSTALL_FLAGS = ["--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"];

export default async function setup(project: TestProject): Promise<() => void> {
  const started = performance.now();
  await buildSdk();
  const cache = join(ROOT, ".cache", "package");
  mkdirSync(cache, { recursive: true });
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", cache], SDK_DIR);
  const [packed] = JSON.parse(stdout) as { filename: string; size: number; unpackedSize: number; entryCount: number }[];
  if (!packed) throw new Error(`npm pack printed no tarball: ${stdout}`);
  const tarball = join(cache, packed.filename);
  const packedAt = performance.now();

  const projects = mkdtempSync(join(tmpdir(), "jupid-package-"));
  const fresh = (name: string, dependencies: Record<string, string>) => {
    const dir = join(projects, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module", dependencies }, null, 2));
    return dir;
  };
  const bare = fresh("bare", { "@jupid/embed": `file:${tarball}` });
  await run("npm", ["install", "--offline", ...INSTALL_FLAGS], bare);
  const bareAt = performance.now();
  const partner = fresh("partner", { ...PARTNER_PROJECT_DEPENDENCIES, "@jupid/embed": `file:${tarball}` });
  await run("npm", ["install", "--prefer-offline", ...INSTALL_FLAGS], partner);
  const installedAt = performance.now();

  const s = (from: number, to: number) => `${((to - from) / 1000).toFixed(1)}s`;
  console.log(
    `[figures] package: tarball=${packed.filename} packed=${packed.size}B unpacked=${packed.unpackedSize}B files=${packed.entryCount} ` +
      `build+pack=${s(started, packedAt)} bare-install=${s(packedAt, bareAt)} partner-install=${s(bareAt, installedAt)}`,
  );
  project.provide("packageTarball", tarball);
  project.provide("partnerProject", partner);
  project.provide("bareProject", bare);
  return () => rmSync(projects, { recursive: true, force: true });
}
