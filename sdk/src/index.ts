/**
 * Jupid embed SDK, ESM entry. Side-effect free: importing it touches neither
 * `window` nor `document` (safe under SSR); call {@link mount} in the browser.
 *
 * ```ts
 * import { mount } from "@jupid/embed";
 * const embed = mount({
 *   partnerId: "acme-books",
 *   container: "#jupid",
 *   appUrl: "https://app.jupid.com",
 *   getToken: () => fetch("/api/jupid/embed-token").then((r) => r.json()).then((b) => b.token),
 * });
 * embed.on("authenticated", ({ firstRun }) => console.log("signed in", firstRun));
 * ```
 */
import { mountEmbed } from "./mount.ts";
import type { EmbedHandle, JupidEmbedGlobal, MountOptions } from "./types.ts";
import { VERSION } from "./version.ts";

export type * from "./types.ts";
export { MAX_TOKEN_ATTEMPTS, PROTOCOL_VERSION } from "./protocol.ts";

declare global {
  interface Window {
    /**
     * Installed by embed.js (`<script src="https://app.jupid.com/embed.js">`); undefined until it has run.
     * Script-tag pages get this type with `/// <reference types="@jupid/embed" />`.
     */
    JupidEmbed?: JupidEmbedGlobal;
  }
}

/** The production Jupid app, the ESM entry's default `appUrl`. */
export const DEFAULT_APP_URL = "https://app.jupid.com";

/** The SDK version (from package.json at build time). */
export const version: string = VERSION;

/** Mount the Jupid workspace into `options.container`; see {@link MountOptions} and {@link EmbedHandle}. */
export function mount(options: MountOptions): EmbedHandle {
  return mountEmbed(options, DEFAULT_APP_URL);
}
