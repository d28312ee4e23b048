/** embed.js stays small and CSP-friendly (a budget checked by bytes, not by timing). */
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { buildEmbedJs, EMBED_GZIP_BUDGET, packageVersion } from "../../scripts/build.ts";

let code: string;
beforeAll(async () => {
  code = await buildEmbedJs();
});

describe("embed.js", () => {
  it(`is at most ${EMBED_GZIP_BUDGET} bytes minified + gzip`, () => {
    const size = gzipSync(code, { level: 9 }).length;
    expect(size).toBeGreaterThan(500);
    expect(size).toBeLessThanOrEqual(EMBED_GZIP_BUDGET);
  });

  it("carries the package version, injected at build time", () => {
    expect(code).toContain(JSON.stringify(packageVersion()));
    expect(code).not.toContain("__JUPID_VERSION__");
    expect(code).not.toContain("0.0.0-dev");
  });

  it("needs no eval and never posts to any origin (`*`)", () => {
    expect(code).not.toMatch(/\beval\(|new Function\(/);
    expect(code).not.toMatch(/postMessage\([^)]*,\s*"\*"\)/);
  });

  it("is a single IIFE that only defines window.JupidEmbed", () => {
    expect(code.trim()).toMatch(/^"use strict";\(\(\)=>\{[\s\S]*\}\)\(\);$/);
    expect(code).toContain(".JupidEmbed=");
  });
});
