import { join } from "node:path";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

/**
 * Inside this repository the package's own names (`@jupid/embed`, `/react`,
 * `/server`, as the examples and docs import them) resolve to the sources,
 * like tsconfig.json's `paths`; test/package proves the packed tarball.
 */
const SDK_SRC = join(import.meta.dirname, "sdk", "src");
const alias = [
  { find: /^@jupid\/embed$/, replacement: join(SDK_SRC, "index.ts") },
  { find: /^@jupid\/embed\/react$/, replacement: join(SDK_SRC, "react.tsx") },
  { find: /^@jupid\/embed\/server$/, replacement: join(SDK_SRC, "server.ts") },
];
const project = (config: TestProjectInlineConfiguration): TestProjectInlineConfiguration => ({ ...config, resolve: { alias } });

/**
 * One run, several projects. `npm test` runs them all; each folder is also
 * runnable alone (`vitest run --project <name>`).
 */
export default defineConfig({
  test: {
    reporters: ["default"],
    projects: [
      project({ test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 20_000 } }),
      project({
        test: {
          name: "contract",
          include: ["test/contract/**/*.test.ts"],
          globalSetup: ["test/support/emulator-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      }),
      project({ test: { name: "cdk", include: ["test/cdk/**/*.test.ts"], testTimeout: 180_000 } }),
      project({
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      }),
      project({
        test: {
          // `npm pack` of sdk/ installed into fresh partner projects (Vite + React, Next.js, plain Node):
          // needs the npm registry (or npm's cache) and Chromium; see test/package/setup.ts.
          name: "package",
          include: ["test/package/**/*.test.ts"],
          globalSetup: ["test/package/setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      }),
      project({
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/emulator-setup.ts"],
          testTimeout: 300_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      }),
    ],
  },
});
