import { defineConfig } from "vitest/config";

/**
 * One run, several projects. `npm test` runs them all; each folder is also
 * runnable alone (`vitest run --project <name>`).
 */
export default defineConfig({
  test: {
    reporters: ["default"],
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 20_000 } },
      {
        test: {
          name: "contract",
          include: ["test/contract/**/*.test.ts"],
          globalSetup: ["test/support/emulator-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      { test: { name: "cdk", include: ["test/cdk/**/*.test.ts"], testTimeout: 180_000 } },
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/emulator-setup.ts"],
          testTimeout: 300_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
