/** `token mint | doctor`: make a correctly signed test token; explain what the gateway would say about any token. */
import { PARTNER_ID_PATTERN, type PartnerConfig } from "../../../config/schema.ts";
import { EmbedTokenOptionsError, signEmbedToken } from "../../../sdk/src/server.ts";
import { integerOption, positionals, stringOption } from "../args.ts";
import { AWS_OPTIONS, type Command, ENV_OPTIONS, envFlags, type KeySet, loadPartnerKeys } from "../command.ts";
import { type DoctorCheck, type DoctorReport, diagnoseToken, type KeySource, peekIssuer } from "../doctor.ts";
import { selectEnvironment } from "../environment.ts";
import { CliError, columns, EXIT, isoSeconds, usageError } from "../io.ts";

const SECRET_FILE_OPTION = {
  "secret-file": {
    type: "string",
    value: "<file>",
    description: 'file holding the secret (or {"<partnerId>": "<secret>"} JSON, like the local secrets file)',
  },
} as const;

const mint: Command = {
  name: "token mint",
  usage: "token mint <partnerId> --sub <id> [--email <e>] [--name <n>] [--ttl <s>] [--payload <json>] [--kid <kid>] [--secret-file <file> | --env <env>] [--json]",
  summary: "Print a correctly signed test token.",
  details: [
    "Signed by signEmbedToken, the partner kit's helper (sdk/src/server.ts), exactly as a Node partner would.",
    "The secret comes from --secret-file, else the environment: local = the local gateway's secrets file",
    "(npm start creates it), integration/staging/production = Secrets Manager AWSCURRENT. --env defaults to",
    "JUPID_ENV, else local. Only the token goes to stdout, so TOKEN=$(jupid-embed token mint ...) works.",
    "Every token is single-use at the gateway (fresh jti each time).",
  ].join("\n"),
  options: {
    sub: { type: "string", value: "<id>", description: "the partner's user id (required)" },
    email: { type: "string", value: "<email>", description: "email claim" },
    name: { type: "string", value: "<name>", description: "name claim" },
    ttl: { type: "string", value: "<seconds>", description: "lifetime, 1-900 (default: the partner's maxTokenLifetimeSeconds)" },
    payload: { type: "string", value: "<json>", description: "payload claim, a JSON object" },
    kid: { type: "string", value: "<kid>", description: "kid header (default: none; the gateway tries current, then previous)" },
    ...SECRET_FILE_OPTION,
    ...ENV_OPTIONS,
    ...AWS_OPTIONS,
  },
  examples: [
    "jupid-embed token mint acme-books --sub user-42 --email ada@example.com --name 'Ada Lovelace'",
    "jupid-embed token mint acme-books --sub user-42 --env staging --ttl 60",
  ],
  async run(args, ctx) {
    const { io, out } = ctx;
    const [partnerId] = positionals(args, ["partnerId"], "token mint") as [string];
    if (!PARTNER_ID_PATTERN.test(partnerId)) throw usageError(`"${partnerId}" is not a partner id (${PARTNER_ID_PATTERN.source})`);
    const sub = stringOption(args, "sub");
    if (sub === undefined) throw usageError("--sub is required (the partner's id for the user)");
    const payload = parsePayload(stringOption(args, "payload"));
    const selected = selectEnvironment(envFlags(args), io);
    const partner: PartnerConfig | undefined = selected.config.partners.find((p) => p.id === partnerId);
    if (!partner) {
      if (stringOption(args, "secret-file") === undefined) {
        throw new CliError("PARTNER_NOT_FOUND", `no partner "${partnerId}" in ${selected.file}`, EXIT.FAILED, "pass --env for its environment, or --secret-file to sign anyway");
      }
      out.warn(`${partnerId} is not configured in ${selected.name}: the gateway there would answer PARTNER_NOT_FOUND`);
    } else if (!partner.enabled) {
      out.warn(`${partnerId} is disabled in ${selected.name}: the gateway would answer PARTNER_DISABLED`);
    }
    const ttl = integerOption(args, "ttl", 1, 900) ?? partner?.maxTokenLifetimeSeconds ?? 300;
    if (partner && ttl > partner.maxTokenLifetimeSeconds) {
      out.warn(`--ttl ${ttl} exceeds ${partnerId}'s maxTokenLifetimeSeconds (${partner.maxTokenLifetimeSeconds}): the gateway would answer TOKEN_LIFETIME_TOO_LONG`);
    }
    const keys: KeySet = await loadPartnerKeys(selected, partnerId, args, ctx);
    const key = keys.keys.find((k) => k.stage === "current");
    if (!key) throw new CliError("SECRET_NOT_FOUND", `no current key for ${partnerId} in ${keys.source}`);
    out.progress(`signing for ${partnerId} with the current key from ${keys.source}`);
    const nowMs = io.now();
    const kid = stringOption(args, "kid");
    const email = stringOption(args, "email");
    const name = stringOption(args, "name");
    let token: string;
    try {
      token = await signEmbedToken({
        partnerId,
        secret: key.secret,
        user: { id: sub, ...(email === undefined ? {} : { email }), ...(name === undefined ? {} : { name }), ...(payload === undefined ? {} : { payload }) },
        ttlSeconds: ttl,
        ...(kid === undefined ? {} : { kid }),
        now: nowMs,
      });
    } catch (error) {
      if (error instanceof EmbedTokenOptionsError) throw usageError(error.message);
      throw error;
    }
    const iat = Math.floor(nowMs / 1000);
    if (out.json) {
      out.printJson({ token, partnerId, environment: selected.name, iat, exp: iat + ttl, expiresAt: isoSeconds(iat + ttl), ...(kid ? { kid } : {}) });
    } else {
      out.print(token);
      out.progress(`valid until ${isoSeconds(iat + ttl)} (${ttl} s), single use`);
    }
    return EXIT.OK;
  },
};

function parsePayload(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw usageError("--payload must be JSON, e.g. '{\"plan\":\"pro\"}'");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw usageError("--payload must be a JSON object");
  return value as Record<string, unknown>;
}

const doctor: Command = {
  name: "token doctor",
  usage: "token doctor <token | -> [--partner <id>] [--origin <origin>] [--path <path>] [--env <env>] [--secret-file <file>] [--at <time>] [--json]",
  summary: "Explain what the gateway would answer for a token, rule by rule; exit 0 only if it passes.",
  details: [
    "Runs the gateway's own checks (lambdas/core/token-policy.ts and the sign-in checks) in the gateway's order:",
    "partner, origin, initialPath, structure, header, keys, signature (which key matched), each claim, lifetime",
    "and clock skew against now. Replay cannot be checked offline. Codes are the gateway's error codes.",
    "Pass '-' to read the token from stdin (keeps it out of the process list). Never prints the token or a secret.",
    "Keys: --secret-file, else the environment's (local secrets file, or Secrets Manager current + previous).",
    "Exit: 0 pass, 1 refused or not decidable (e.g. no key to check the signature), 2 usage, 3 bad partner file.",
  ].join("\n"),
  options: {
    partner: { type: "string", value: "<id>", description: "the partner in the URL (default: the token's iss)" },
    origin: { type: "string", value: "<origin>", description: "the partner page's origin, checked against the allowlist" },
    path: { type: "string", value: "<path>", description: "the requested initialPath, checked against allowedPaths" },
    at: { type: "string", value: "<time>", description: "evaluate at this time (ISO 8601 or epoch seconds) instead of now" },
    ...SECRET_FILE_OPTION,
    ...ENV_OPTIONS,
    ...AWS_OPTIONS,
  },
  examples: [
    "jupid-embed token doctor \"$TOKEN\" --origin http://localhost:3000",
    "pbpaste | jupid-embed token doctor - --env staging --origin https://app.partner.example",
  ],
  async run(args, ctx) {
    const { io, out } = ctx;
    const [tokenArg] = positionals(args, ["token"], "token doctor") as [string];
    const token = tokenArg === "-" ? (await io.readStdin()).replace(/\r?\n$/, "") : tokenArg;
    const nowMs = parseAt(stringOption(args, "at")) ?? io.now();
    const selected = selectEnvironment(envFlags(args), io);
    const partnerFlag = stringOption(args, "partner");
    const partnerId = partnerFlag ?? peekIssuer(token);
    let keys: KeySource;
    if (partnerId === undefined) {
      keys = { kind: "unavailable", reason: "the partner is unknown" };
    } else {
      // A token with a kid names its key; a --secret-file key stands in for whatever it names.
      const headerKid = peekKid(token);
      try {
        const set = await loadPartnerKeys(selected, partnerId, args, ctx, headerKid ?? "secret-file");
        keys = { kind: "keys", keys: set.keys, source: set.source };
      } catch (error) {
        if (!(error instanceof CliError)) throw error;
        keys = { kind: "unavailable", reason: error.message };
      }
    }
    const origin = stringOption(args, "origin");
    const initialPath = stringOption(args, "path");
    const report = await diagnoseToken({
      token,
      config: selected.config,
      ...(partnerFlag === undefined ? {} : { partnerId: partnerFlag }),
      keys,
      ...(origin === undefined ? {} : { origin }),
      ...(initialPath === undefined ? {} : { initialPath }),
      nowMs,
    });
    if (out.json) out.printJson(report);
    else out.print(formatReport(report));
    return report.ok ? EXIT.OK : EXIT.FAILED;
  },
};

function peekKid(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8")) as { kid?: unknown };
    return typeof header.kid === "string" && /^[A-Za-z0-9._-]{1,64}$/.test(header.kid) ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

function parseAt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d{9,11}$/.test(text)) return Number(text) * 1000;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw usageError(`--at must be an ISO 8601 time or epoch seconds, got "${text}"`);
  return ms;
}

const LABEL: Record<DoctorCheck["status"], string> = { pass: "ok", fail: "FAIL", skip: "skip", info: "info" };

/** The human report: one line per rule, hints indented under it, and the verdict last. */
export function formatReport(report: DoctorReport): string {
  const head = `Token doctor: partner ${report.partnerId ?? "(unknown)"}, environment ${report.environment}, at ${report.at}${report.keySource ? `\nkeys from ${report.keySource}` : ""}`;
  const rows: string[][] = [];
  for (const check of report.checks) {
    rows.push([LABEL[check.status], check.rule, `${check.code ? `${check.code}: ` : ""}${check.message}`]);
    for (const hint of check.hints ?? []) rows.push(["", "", `  - ${hint}`]);
  }
  const v = report.verdict;
  const verdict =
    v.outcome === "pass"
      ? "PASS: the gateway would accept this token (200), if its jti has not been used before."
      : v.outcome === "refused"
        ? `REFUSED: the gateway would answer ${v.status} ${v.code}: ${v.message}`
        : `INCONCLUSIVE: ${v.message}`;
  return `${head}\n\n${columns(rows, "  ")}\n\n${verdict}\n`;
}

export const tokenCommands: readonly Command[] = [mint, doctor];
