/**
 * `npm start`: the local gateway (Jupid side, JUPID_PORT, default 4000) with
 * the in-memory stores, plus the demo partner site (PARTNER_PORT, default
 * 3000) on a second origin. No AWS account, no Docker.
 *
 * Arguments (`npm start -- --origin http://localhost:8000`):
 *   --origin <origin>     also allow this origin for the demo partner, for this run only (repeatable);
 *                         your own dev site can then mount the embed against the local gateway
 *
 * Environment:
 *   JUPID_ENV             partner config to load (default local)
 *   JUPID_PARTNERS_FILE   a partner file instead of config/partners.<env>.json
 *   JUPID_LOCAL_SECRETS   JSON {partnerId: secret}; created if missing, never rewritten when it exists
 *                         (default .local/secrets.<env>.json, which is created and extended as needed)
 *   JUPID_INTERNAL_KEY    key for /internal/* (default: a file next to the secrets)
 *   JUPID_TLS=1           serve the gateway on https://127.0.0.1 with a self-signed certificate made
 *                         once with openssl into .cache/tls/ (gitignored); the demo site stays http://localhost
 *   JUPID_PORT (4000), PARTNER_PORT (3000; 0 = any free port), OIDC_PORT (4001, the demo partner's OpenID provider),
 *   DEMO_PARTNER_ID (default: the first enabled partner)
 *
 * The demo partner's own origin (http://localhost:<PARTNER_PORT>) is always allowed, whatever the file says.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type EnvironmentConfig, isEnvironmentName, loadEnvironmentConfig, originProblem, partnersFile } from "../../config/schema.ts";
import { log } from "../http/logger.ts";
import { DEFAULT_JUPID_PORT, DEFAULT_PARTNER_PORT, DEMO_PARTNER_HOST, demoPartnerUrl, LOCAL_GATEWAY_HOST, portFrom } from "./address.ts";
import { startDemoPartner } from "./demo-partner.ts";
import { checkInternalKey, type RunningGateway, startGateway } from "./gateway.ts";
import { startLocalProvider } from "./oidc-provider.ts";

const REPO_ROOT = resolve(import.meta.dirname, "..", "..");

export interface LocalSecrets {
  readonly secrets: Record<string, string>;
  /** Partners that got a secret for this run only, because the given file lacked one and is never rewritten. */
  readonly ephemeral: readonly string[];
}

/**
 * Read `{partnerId: secret}` and make sure every partner has one. A file the
 * caller owns (`owned: false`, i.e. JUPID_LOCAL_SECRETS pointing at an
 * existing file) is only ever read: partners it lacks get a fresh secret for
 * this run only. The default file is ours: created (mode 0600) and extended.
 */
export function ensureLocalSecrets(file: string, partnerIds: readonly string[], options: { owned: boolean } = { owned: true }): LocalSecrets {
  const exists = existsSync(file);
  const secrets: Record<string, string> = exists ? JSON.parse(readFileSync(file, "utf8")) : {};
  const added: string[] = [];
  for (const id of partnerIds) {
    if (typeof secrets[id] !== "string") {
      secrets[id] = randomBytes(32).toString("base64url");
      added.push(id);
    }
  }
  const writable = options.owned || !exists;
  if (writable && (added.length > 0 || !exists)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return { secrets, ephemeral: writable ? [] : added };
}

/** The config with `extra` origins added to partner `partnerId` (for this run; the file is not touched). */
export function withExtraOrigins(config: EnvironmentConfig, partnerId: string, extra: readonly string[]): EnvironmentConfig {
  for (const origin of extra) {
    const problem = originProblem(origin);
    if (problem) throw new Error(`--origin ${problem}`);
  }
  return {
    ...config,
    partners: config.partners.map((p) => (p.id === partnerId ? { ...p, allowedOrigins: [...new Set([...p.allowedOrigins, ...extra])] } : p)),
  };
}

/** A free port on `host`, so the demo partner's origin is known before the gateway's config is built. */
function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no free port"))));
    });
  });
}

/** The key for /internal/*: JUPID_INTERNAL_KEY, else the file (created with a random key); shorter than 16 bytes refuses to start. */
export function ensureInternalKey(file: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  // An empty JUPID_INTERNAL_KEY is a mistake, not "use the file": it is checked (and refused) like any other value.
  if (env.JUPID_INTERNAL_KEY !== undefined) return checkInternalKey(env.JUPID_INTERNAL_KEY, "JUPID_INTERNAL_KEY");
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(24).toString("base64url"), { mode: 0o600 });
  }
  return checkInternalKey(readFileSync(file, "utf8").trim(), `the internal key file ${file}`);
}

function flag(name: string): boolean {
  const value = process.env[name] ?? "";
  if (value === "" || value === "0") return false;
  if (value === "1") return true;
  throw new Error(`${name} must be 1 or 0`);
}

async function main() {
  const { values: args } = parseArgs({ options: { origin: { type: "string", multiple: true } }, allowPositionals: false });
  const envName = process.env.JUPID_ENV ?? "local";
  if (!isEnvironmentName(envName)) throw new Error(`JUPID_ENV must be one of local, integration, staging, production`);
  const file = process.env.JUPID_PARTNERS_FILE ?? partnersFile(envName);
  const fileConfig = loadEnvironmentConfig(file);
  const secretsFile = resolve(process.env.JUPID_LOCAL_SECRETS ?? join(REPO_ROOT, ".local", `secrets.${envName}.json`));
  const { secrets, ephemeral } = ensureLocalSecrets(
    secretsFile,
    fileConfig.partners.map((p) => p.id),
    { owned: process.env.JUPID_LOCAL_SECRETS === undefined },
  );
  const internalKey = ensureInternalKey(join(dirname(secretsFile), "internal-key"));

  const demoPartnerId = process.env.DEMO_PARTNER_ID ?? fileConfig.partners.find((p) => p.enabled)?.id;
  if (demoPartnerId && !fileConfig.partners.some((p) => p.id === demoPartnerId)) throw new Error(`DEMO_PARTNER_ID "${demoPartnerId}" is not in ${file}`);
  const extraOrigins = args.origin ?? [];
  if (extraOrigins.length > 0 && !demoPartnerId) throw new Error(`--origin needs a partner to add it to: ${file} has no enabled partner`);
  const requestedPartnerPort = portFrom(process.env, "PARTNER_PORT", DEFAULT_PARTNER_PORT);
  const partnerPort = requestedPartnerPort === 0 ? await freePort(DEMO_PARTNER_HOST) : requestedPartnerPort;
  // The demo site's own origin is allowed on whatever port it runs, plus every --origin.
  const config = demoPartnerId ? withExtraOrigins(fileConfig, demoPartnerId, [demoPartnerUrl(partnerPort), ...extraOrigins]) : fileConfig;

  const gateway = await startGateway({
    config,
    secrets,
    internalKey,
    host: LOCAL_GATEWAY_HOST,
    port: portFrom(process.env, "JUPID_PORT", DEFAULT_JUPID_PORT),
    tls: flag("JUPID_TLS"),
  });
  const demoSecret = demoPartnerId ? secrets[demoPartnerId] : undefined;
  const provider = demoPartnerId ? await startDemoProvider(gateway, demoPartnerId) : undefined;
  const demo =
    demoPartnerId && demoSecret
      ? await startDemoPartner({
          port: partnerPort,
          host: DEMO_PARTNER_HOST,
          gatewayUrl: gateway.url,
          partnerId: demoPartnerId,
          secret: demoSecret,
          oidcLoginUrl: provider?.loginUrl,
        })
      : undefined;
  const allowed = config.partners.find((p) => p.id === demoPartnerId)?.allowedOrigins ?? [];

  log("info", "local gateway started", {
    gateway: gateway.url,
    environment: config.environment,
    partnersFile: file,
    secretsFile,
    internalKeyFile: join(dirname(secretsFile), "internal-key"),
    demoPartner: demo?.url,
    demoPartnerId,
    demoPartnerOrigins: allowed.join(" "),
    ephemeralSecrets: ephemeral.length > 0 ? ephemeral.join(" ") : undefined,
    note: gateway.url.startsWith("http://")
      ? "plain http: the session cookie is named jupid_session instead of __Host-jupid_session (browsers treat loopback as secure, so Secure/Partitioned still apply)"
      : "https with a self-signed certificate: accept it once in the browser (open the gateway URL) before the demo site can frame it",
  });
  const lines = [
    `Jupid local gateway  ${gateway.url}`,
    `Demo partner site    ${demo?.url ?? "(none)"}`,
    `Acme ID (OIDC)       ${provider?.provider.issuer ?? "(none)"}`,
    `Partner secrets      ${secretsFile}`,
    ...(demoPartnerId ? [`Origins of ${demoPartnerId}  ${allowed.join(" ")}`] : []),
    ...(ephemeral.length > 0
      ? [`Not in ${secretsFile} (left unchanged): ${ephemeral.join(", ")}; they got a secret for this run only`]
      : []),
  ];
  process.stdout.write(`\n${lines.join("\n")}\n\n`);

  const stop = async () => {
    await demo?.close();
    await provider?.provider.close();
    await gateway.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

/**
 * The demo partner's own OpenID provider ("Acme ID", OIDC_PORT, default 4001):
 * a client registered for the local gateway, and the partner's oidc block
 * pointed at it in the in-memory partner store. Only for npm start: real
 * partners get their `oidc` block in config/partners.<env>.json.
 */
async function startDemoProvider(gateway: RunningGateway, partnerId: string) {
  const memory = gateway.memory;
  const partner = await memory?.partners.get(partnerId);
  if (!memory || !partner) return undefined;
  const provider = await startLocalProvider({ appUrl: gateway.url, partnerId, port: portFrom(process.env, "OIDC_PORT", 4001) });
  memory.partners.set({ ...partner, oidc: { issuer: provider.issuer, clientId: provider.clientId, scopes: ["openid", "email", "profile"], clientAuth: "client_secret_basic", subjects: "separate" } });
  memory.secrets.setOidcClientSecret(partnerId, provider.clientSecret);
  const loginUrl = `${gateway.url}/partner/${partnerId}/oidc/login?${new URLSearchParams({ iss: provider.issuer, target_link_uri: "/dashboard" })}`;
  return { provider, loginUrl };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
