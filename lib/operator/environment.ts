/**
 * Which environment a command works on, its partner configuration, and where
 * that environment keeps partner secrets (Secrets Manager, or for `local` the
 * file `npm start` writes).
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import {
  ConfigError,
  ENVIRONMENTS,
  type EnvironmentConfig,
  type EnvironmentName,
  isEnvironmentName,
  loadEnvironmentConfig,
  type PartnerConfig,
  partnersFile,
} from "../../config/schema.ts";
import { localGatewayUrl, portFrom } from "../../lambdas/local/address.ts";
import { CliError, type CliIo, EXIT, usageError } from "./io.ts";

export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");

export interface SelectedEnvironment {
  readonly name: EnvironmentName;
  /** The partner file that was read. */
  readonly file: string;
  readonly config: EnvironmentConfig;
}

export interface EnvironmentFlags {
  readonly env?: string;
  readonly config?: string;
}

/**
 * Resolve `--env` / `--config` (and `JUPID_ENV`, `JUPID_PARTNERS_FILE`, as
 * `npm start` reads them) and load the partner file through the same loader
 * as the gateway and the CDK app. With `required`, `--env` must be given (or
 * implied by `--config`): commands that change AWS state never guess.
 */
export function selectEnvironment(flags: EnvironmentFlags, io: CliIo, options: { required?: boolean } = {}): SelectedEnvironment {
  let name: EnvironmentName | undefined;
  if (flags.env !== undefined) {
    if (!isEnvironmentName(flags.env)) {
      throw usageError(`unknown environment "${flags.env}"`, `use one of: ${ENVIRONMENTS.join(", ")}`);
    }
    name = flags.env;
  }
  const fromEnvVar = io.env.JUPID_PARTNERS_FILE;
  if (name === undefined && flags.config === undefined) {
    if (options.required) throw usageError("--env is required for this command", `use one of: ${ENVIRONMENTS.join(", ")}`);
    const implicit = io.env.JUPID_ENV;
    if (implicit !== undefined) {
      if (!isEnvironmentName(implicit)) throw usageError(`JUPID_ENV="${implicit}" is not an environment (${ENVIRONMENTS.join(", ")})`);
      name = implicit;
    } else if (fromEnvVar === undefined) {
      name = "local";
    } // else: the environment JUPID_PARTNERS_FILE declares
  }
  const file = flags.config
    ? absolute(flags.config, io.cwd)
    : fromEnvVar
      ? absolute(fromEnvVar, io.cwd)
      : partnersFile(name as EnvironmentName);
  const config = loadConfig(file);
  if (name !== undefined && config.environment !== name) {
    throw new CliError(
      "CONFIG_MISMATCH",
      `${file} is the partner file of environment "${config.environment}", not "${name}"`,
      EXIT.USAGE,
      flags.config ? "drop --env or pass the matching file" : "unset JUPID_PARTNERS_FILE or pass --config",
    );
  }
  return { name: config.environment, file, config: withLocalPort(config, io) };
}

/** `npm start` serves the local environment on JUPID_PORT: print the URLs it really answers on. */
function withLocalPort(config: EnvironmentConfig, io: CliIo): EnvironmentConfig {
  if (config.environment !== "local" || !io.env.JUPID_PORT) return config;
  let port: number;
  try {
    port = portFrom(io.env, "JUPID_PORT", 0);
  } catch (error) {
    throw usageError((error as Error).message);
  }
  return port === 0 ? config : { ...config, appUrl: localGatewayUrl(port) };
}

/** Load a partner file; validation errors keep the loader's exact message (file, partner, field). */
export function loadConfig(file: string): EnvironmentConfig {
  try {
    return loadEnvironmentConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError("CONFIG_INVALID", error.message, EXIT.CONFIG, undefined, { cause: error });
    throw error;
  }
}

export function findPartner(selected: SelectedEnvironment, partnerId: string): PartnerConfig {
  const partner = selected.config.partners.find((p) => p.id === partnerId);
  if (!partner) {
    const known = selected.config.partners.map((p) => p.id).join(", ") || "(none)";
    throw new CliError(
      "PARTNER_NOT_FOUND",
      `no partner "${partnerId}" in ${selected.file}`,
      EXIT.FAILED,
      `partners of ${selected.name}: ${known}`,
    );
  }
  return partner;
}

/** Secrets Manager name prefix: `--secret-prefix`, else JUPID_SECRET_PREFIX (as the Lambdas read it), else `jupid-embed/<env>/partners/`. */
export function secretPrefix(env: EnvironmentName, io: CliIo, flagValue?: string): string {
  return flagValue ?? io.env.JUPID_SECRET_PREFIX ?? `jupid-embed/${env}/partners/`;
}

/** The local gateway's secrets file: JUPID_LOCAL_SECRETS, else `.local/secrets.<env>.json` (as lambdas/local/main.ts). */
export function localSecretsFile(env: EnvironmentName, io: CliIo): string {
  const given = io.env.JUPID_LOCAL_SECRETS;
  return given ? absolute(given, io.cwd) : join(REPO_ROOT, ".local", `secrets.${env}.json`);
}

/** The kid the local gateway gives every secret from its file (startGateway's `setCurrent(..., "local")`). */
export const LOCAL_KID = "local";

/** A partner's secret from the local secrets file; never creates one (`npm start` does). */
export function readLocalSecret(file: string, partnerId: string): string {
  if (!existsSync(file)) {
    throw new CliError(
      "LOCAL_SECRETS_MISSING",
      `no local secrets file at ${file}`,
      EXIT.FAILED,
      "run `npm start` once: it creates the file with a secret for every partner of the environment",
    );
  }
  const secret = secretFromJsonFile(file, partnerId);
  if (secret === undefined) {
    throw new CliError(
      "SECRET_NOT_FOUND",
      `${file} has no secret for partner "${partnerId}"`,
      EXIT.FAILED,
      "restart `npm start`: it adds a secret for every configured partner",
    );
  }
  return secret;
}

function secretFromJsonFile(file: string, partnerId: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new CliError("SECRET_FILE_INVALID", `${file} is not valid JSON`, EXIT.FAILED, undefined, { cause });
  }
  if (typeof value !== "object" || value === null) return undefined;
  const secret = (value as Record<string, unknown>)[partnerId];
  return typeof secret === "string" ? secret : undefined;
}

/**
 * A secret from `--secret-file`: either the local secrets JSON
 * (`{"<partnerId>": "<secret>"}`) or a file holding just the secret (one
 * trailing newline is dropped; everything else is kept byte-exact).
 */
export function readSecretFile(path: string, partnerId: string, io: CliIo): string {
  const file = absolute(path, io.cwd);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError("SECRET_FILE_UNREADABLE", `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
  }
  if (text.trimStart().startsWith("{")) {
    const secret = secretFromJsonFile(file, partnerId);
    if (secret === undefined) throw new CliError("SECRET_NOT_FOUND", `${file} has no secret for partner "${partnerId}"`);
    return secret;
  }
  const secret = text.replace(/\r?\n$/, "");
  if (secret.length === 0) throw new CliError("SECRET_FILE_INVALID", `${file} is empty`);
  return secret;
}

function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}
