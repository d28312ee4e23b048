declare const __JUPID_VERSION__: string | undefined;

/** The SDK version, injected by scripts/build.ts from package.json (`0.0.0-dev` when run from source). */
export const VERSION: string = typeof __JUPID_VERSION__ === "string" ? __JUPID_VERSION__ : "0.0.0-dev";
