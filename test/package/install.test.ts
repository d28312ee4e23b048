/**
 * What a partner gets from `npm install @jupid/embed`: exactly the built
 * files, three entry points that resolve, and nothing else (no AWS SDK, no
 * jose: zero runtime dependencies).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bareProject, packageTarball, partnerProject, run } from "./support.ts";

function treeSize(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (sum, entry) => sum + (entry.isDirectory() ? treeSize(join(dir, entry.name)) : statSync(join(dir, entry.name)).size),
    0,
  );
}

/** Every package directory under node_modules (scoped ones as @scope/name). */
function installedPackages(nodeModules: string): string[] {
  return readdirSync(nodeModules)
    .filter((name) => !name.startsWith("."))
    .flatMap((name) => (name.startsWith("@") ? readdirSync(join(nodeModules, name)).map((sub) => `${name}/${sub}`) : [name]));
}

describe("the packed @jupid/embed", () => {
  it("holds exactly the built package: dist, README, CHANGELOG, package.json", async () => {
    const { stdout } = await run("tar", ["-tzf", packageTarball()], ".");
    const files = stdout.trim().split("\n").sort();
    expect(files).toEqual(
      [
        "CHANGELOG.md",
        "README.md",
        "dist/diagnose.d.ts",
        "dist/embed.js",
        "dist/index.d.ts",
        "dist/index.js",
        "dist/mount.d.ts",
        "dist/protocol.d.ts",
        "dist/react.d.ts",
        "dist/react.js",
        "dist/server.d.ts",
        "dist/server.js",
        "dist/types.d.ts",
        "dist/version.d.ts",
        "dist/webhook-signature.d.ts",
        "package.json",
      ].map((f) => `package/${f}`),
    );
  });

  it("installs alone as one package of under 100 KB: no AWS SDK, no jose, no dependency at all", () => {
    const nodeModules = join(bareProject(), "node_modules");
    const installed = installedPackages(nodeModules);
    const size = treeSize(join(nodeModules, "@jupid", "embed"));
    console.log(`[figures] bare install: packages=${installed.length} (${installed.join(", ")}) size=${size}B`);
    expect(installed).toEqual(["@jupid/embed"]);
    expect(size).toBeLessThan(100 * 1024);
    const manifest = JSON.parse(readFileSync(join(nodeModules, "@jupid", "embed", "package.json"), "utf8"));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.peerDependenciesMeta).toEqual({ react: { optional: true } });
  });

  it("in the partner project, nothing but React, Vite and Next's own tree came along", () => {
    const installed = installedPackages(join(partnerProject(), "node_modules"));
    console.log(`[figures] partner project: packages=${installed.length}`);
    expect(installed).toContain("@jupid/embed");
    expect(installed.filter((name) => name.startsWith("@aws-sdk/") || name === "jose" || name === "zod")).toEqual([]);
  });

  it("resolves each entry by its public name under plain Node, and refuses the internals", async () => {
    const script = `
      for (const name of ["@jupid/embed", "@jupid/embed/react", "@jupid/embed/server", "@jupid/embed/embed.js", "@jupid/embed/package.json"]) {
        console.log(name + " " + import.meta.resolve(name).replace(/^.*node_modules\\//, ""));
      }
      try { import.meta.resolve("@jupid/embed/dist/mount.js"); console.log("internal resolved"); } catch (e) { console.log("internal " + e.code); }
      const sdk = await import("@jupid/embed");
      console.log("esm " + typeof sdk.mount + " " + sdk.version);
    `;
    const { stdout } = await run("node", ["--input-type=module", "-e", script], bareProject());
    const version = JSON.parse(readFileSync(join(bareProject(), "node_modules", "@jupid", "embed", "package.json"), "utf8")).version;
    expect(stdout.trim().split("\n")).toEqual([
      "@jupid/embed @jupid/embed/dist/index.js",
      "@jupid/embed/react @jupid/embed/dist/react.js",
      "@jupid/embed/server @jupid/embed/dist/server.js",
      "@jupid/embed/embed.js @jupid/embed/dist/embed.js",
      "@jupid/embed/package.json @jupid/embed/package.json",
      "internal ERR_PACKAGE_PATH_NOT_EXPORTED",
      `esm function ${version}`,
    ]);
  });
});
