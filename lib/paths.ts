import { fileURLToPath } from "node:url";

/** The repository root (where package.json, cdk.json and package-lock.json live). */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
