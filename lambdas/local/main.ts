/**
 * `npm start`: the local gateway (Jupid side, JUPID_PORT, default 4000) with
 * the in-memory stores, plus the demo partner site (PARTNER_PORT, default
 * 3000) on a second origin. No AWS account, no Docker.
 *
 * Environment:
 *   JUPID_ENV             partner config to load (default local)
 *   JUPID_PARTNERS_FILE   a partner file instead of config/partners.<env>.json
 *   JUPID_LOCAL_SECRETS   JSON {partnerId: secret}; created with fresh random secrets if missing
 *   JUPID_INTERNAL_KEY    key for /internal/* (default: a file next to the secrets)
 *   JUPID_PORT, PARTNER_PORT, DEMO_PARTNER_ID
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { isEnvironmentName, loadEnvironmentConfig, partnersFile } from "../../config/schema.ts";
import { log } from "../http/logger.ts";
import { startDemoPartner } from "./demo-partner.ts";
import { checkInternalKey, startGateway } from "./gateway.ts";

const REPO_ROOT = resolve(import.meta.dirname, "..", "..");

/** Read `{partnerId: secret}`, adding a fresh secret for any partner that lacks one (file mode 0600). */
export function ensureLocalSecrets(file: string, partnerIds: readonly string[]): Record<string, string> {
  const secrets: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  let changed = !existsSync(file);
  for (const id of partnerIds) {
    if (typeof secrets[id] !== "string") {
      secrets[id] = randomBytes(32).toString("base64url");
      changed = true;
    }
  }
  if (changed) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return secrets;
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

function port(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number`);
  return value;
}

async function main() {
  const envName = process.env.JUPID_ENV ?? "local";
  if (!isEnvironmentName(envName)) throw new Error(`JUPID_ENV must be one of local, integration, staging, production`);
  const file = process.env.JUPID_PARTNERS_FILE ?? partnersFile(envName);
  const config = loadEnvironmentConfig(file);
  const secretsFile = resolve(process.env.JUPID_LOCAL_SECRETS ?? join(REPO_ROOT, ".local", `secrets.${envName}.json`));
  const secrets = ensureLocalSecrets(
    secretsFile,
    config.partners.map((p) => p.id),
  );
  const internalKey = ensureInternalKey(join(dirname(secretsFile), "internal-key"));

  const gateway = await startGateway({ config, secrets, internalKey, port: port("JUPID_PORT", 4000) });
  const demoPartnerId = process.env.DEMO_PARTNER_ID ?? config.partners.find((p) => p.enabled)?.id;
  const demoSecret = demoPartnerId ? secrets[demoPartnerId] : undefined;
  const demo =
    demoPartnerId && demoSecret
      ? await startDemoPartner({ port: port("PARTNER_PORT", 3000), host: "localhost", gatewayUrl: gateway.url, partnerId: demoPartnerId, secret: demoSecret })
      : undefined;

  log("info", "local gateway started", {
    gateway: gateway.url,
    environment: config.environment,
    partnersFile: file,
    secretsFile,
    internalKeyFile: join(dirname(secretsFile), "internal-key"),
    demoPartner: demo?.url,
    demoPartnerId,
    note: gateway.url.startsWith("http://")
      ? "plain http: the session cookie is named jupid_session instead of __Host-jupid_session (browsers treat loopback as secure, so Secure/Partitioned still apply)"
      : undefined,
  });
  process.stdout.write(
    `\nJupid local gateway  ${gateway.url}\nDemo partner site    ${demo?.url ?? "(none)"}\nPartner secrets      ${secretsFile}\n\n`,
  );

  const stop = async () => {
    await demo?.close();
    await gateway.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
