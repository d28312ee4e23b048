/**
 * embed.js: the script-tag build. Installs `window.JupidEmbed = {version, mount}`;
 * `appUrl` defaults to the origin this script was loaded from, so
 * `<script src="https://app.jupid.com/embed.js">` needs no configuration.
 */
import { DEFAULT_APP_URL } from "./index.ts";
import { mountEmbed } from "./mount.ts";
import type { JupidEmbedGlobal } from "./types.ts";
import { VERSION } from "./version.ts";

const script = document.currentScript as HTMLScriptElement | null;
const scriptOrigin = script?.src ? new URL(script.src).origin : DEFAULT_APP_URL;

const api: JupidEmbedGlobal = { version: VERSION, mount: (options) => mountEmbed(options, scriptOrigin) };
(window as unknown as { JupidEmbed: JupidEmbedGlobal }).JupidEmbed = api;
