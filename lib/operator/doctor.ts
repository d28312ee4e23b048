/**
 * `token doctor`: what the gateway would answer for a token, rule by rule,
 * and why. Every rule is decided by the gateway's own code —
 * requirePartner, checkOrigin, resolveInitialPath and the token-policy stages
 * parseCompactToken, checkHeader, candidateKeys, verifySignature, checkClaims
 * — and the verdict by verifyPartnerToken itself, so the doctor cannot
 * disagree with the gateway. Nothing here prints the token or a secret.
 *
 * To report each claim separately (checkClaims stops at the first failure),
 * each claim of the token is checked on its own inside a baseline of claims
 * that pass, again by checkClaims.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { DEFAULT_TOKEN_LIFETIME_SECONDS, type EnvironmentConfig, PARTNER_ID_PATTERN, type PartnerConfig } from "../../config/schema.ts";
import { EmbedError, type ErrorCode } from "../../lambdas/core/errors.ts";
import { resolveInitialPath } from "../../lambdas/core/paths.ts";
import { checkOrigin, requirePartner } from "../../lambdas/core/sessions.ts";
import {
  CLOCK_TOLERANCE_SECONDS,
  candidateKeys,
  checkClaims,
  checkHeader,
  MIN_SECRET_BYTES,
  type ParsedToken,
  parseCompactToken,
  replayWindowEnd,
  TOKEN_AUDIENCE,
  verifyPartnerToken,
  verifySignature,
} from "../../lambdas/core/token-policy.ts";
import { STATUS_OF } from "../../lambdas/http/errors.ts";
import type { PartnerKey } from "../../lambdas/ports/index.ts";
import { duration, isoSeconds, relative } from "./io.ts";

export type CheckStatus = "pass" | "fail" | "skip" | "info";

export interface DoctorCheck {
  /** partner, origin, path, structure, header, keys, signature, iss, aud, sub, time, jti, email, name, payload, replay */
  readonly rule: string;
  readonly status: CheckStatus;
  /** The gateway's error code when `status` is "fail". */
  readonly code?: ErrorCode;
  readonly message: string;
  /** Extra lines: why, and what to do. */
  readonly hints?: readonly string[];
}

/** Where the partner's keys come from, or why there are none to check against. */
export type KeySource =
  | { readonly kind: "keys"; readonly keys: readonly PartnerKey[]; readonly source: string }
  | { readonly kind: "unavailable"; readonly reason: string };

export interface DoctorInput {
  readonly token: string;
  readonly config: EnvironmentConfig;
  /** The partner in the URL; defaults to the token's `iss`. */
  readonly partnerId?: string;
  readonly keys: KeySource;
  /** The partner page's origin (the frame's parentOrigin, or the Origin of a redirect-path POST). */
  readonly origin?: string;
  readonly initialPath?: string;
  readonly nowMs: number;
}

export type Verdict =
  | { readonly outcome: "pass"; readonly status: 200 }
  | { readonly outcome: "refused"; readonly code: ErrorCode; readonly status: number; readonly message: string }
  | { readonly outcome: "inconclusive"; readonly message: string; readonly code?: ErrorCode; readonly status?: number };

export interface DoctorReport {
  /** True only when the gateway would accept the token (replay aside, which cannot be known offline). */
  readonly ok: boolean;
  readonly verdict: Verdict;
  readonly environment: string;
  readonly partnerId?: string;
  /** ISO time the rules were evaluated at. */
  readonly at: string;
  readonly keySource?: string;
  readonly checks: readonly DoctorCheck[];
}

/**
 * The token's `iss` if the token parses and `iss` looks like a partner id;
 * lets the command pick the partner (and load its keys) before diagnosing.
 */
export function peekIssuer(token: string): string | undefined {
  try {
    const iss = parseCompactToken(token).payload.iss;
    return typeof iss === "string" && PARTNER_ID_PATTERN.test(iss) ? iss : undefined;
  } catch {
    return undefined;
  }
}

export async function diagnoseToken(input: DoctorInput): Promise<DoctorReport> {
  const { token, config } = input;
  const nowSeconds = Math.floor(input.nowMs / 1000);
  const checks: DoctorCheck[] = [];
  /** Failures the gateway checks before the token, in its order. */
  const requestFailures: EmbedError[] = [];
  const add = (check: DoctorCheck) => checks.push(check);
  const failed = (rule: string, error: unknown, hints?: readonly string[]): DoctorCheck => {
    const embed = asEmbedError(error);
    return { rule, status: "fail", code: embed.code, message: embed.message, ...(hints?.length ? { hints } : {}) };
  };

  // --- partner (the handler's requirePartner) ---------------------------------
  const partnerId = input.partnerId ?? peekIssuer(token);
  const configured = partnerId === undefined ? undefined : config.partners.find((p) => p.id === partnerId);
  if (partnerId === undefined) {
    add({ rule: "partner", status: "skip", message: "cannot tell which partner this is for: the token has no usable iss; pass --partner <id>" });
  } else {
    try {
      const partner = await requirePartner({ partners: { get: async (id) => config.partners.find((p) => p.id === id) } }, partnerId);
      add({ rule: "partner", status: "pass", message: `${partner.id} (${partner.displayName}) is configured in ${config.environment} and enabled` });
    } catch (error) {
      requestFailures.push(asEmbedError(error));
      const known = config.partners.map((p) => p.id).join(", ") || "none";
      add(
        failed("partner", error, [
          configured
            ? `"enabled" is false in the partner file of ${config.environment}`
            : `partners configured in ${config.environment}: ${known} (pass --env to check another environment)`,
        ]),
      );
    }
  }
  const policyPartner: Pick<PartnerConfig, "id" | "maxTokenLifetimeSeconds"> = {
    id: configured?.id ?? partnerId ?? "(unknown)",
    maxTokenLifetimeSeconds: configured?.maxTokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS,
  };

  // --- origin and initialPath (signIn checks them before the token) -----------
  if (input.origin === undefined) {
    add({
      rule: "origin",
      status: "skip",
      message: "not checked: pass --origin <the partner page's origin>",
      hints: [
        configured ? `allowed origins: ${configured.allowedOrigins.join(", ")}` : "the iframe path always sends the page's origin",
      ],
    });
  } else if (configured) {
    try {
      checkOrigin(configured, input.origin);
      add({ rule: "origin", status: "pass", message: `${input.origin} is on the partner's allowlist` });
    } catch (error) {
      requestFailures.push(asEmbedError(error));
      add(failed("origin", error, [`${input.origin} is not one of: ${configured.allowedOrigins.join(", ")}`, originHint(input.origin)]));
    }
  } else {
    add({ rule: "origin", status: "skip", message: "not checked: the partner is not configured" });
  }

  if (configured) {
    try {
      const path = resolveInitialPath(input.initialPath, configured);
      add({
        rule: "path",
        status: input.initialPath === undefined ? "info" : "pass",
        message:
          input.initialPath === undefined
            ? `no initialPath given (--path): returning users open ${path}, new users ${configured.firstRunPath}`
            : `initialPath ${input.initialPath} -> ${path} for returning users (new users open ${configured.firstRunPath})`,
      });
    } catch (error) {
      requestFailures.push(asEmbedError(error));
      add(failed("path", error, configured.allowedPaths ? [`allowed path prefixes: ${configured.allowedPaths.join(", ")}`] : []));
    }
  }

  // --- structure ---------------------------------------------------------------
  let parsed: ParsedToken | undefined;
  try {
    parsed = parseCompactToken(token);
    add({ rule: "structure", status: "pass", message: `compact JWS, three canonical base64url segments, ${token.length} bytes` });
  } catch (error) {
    add(failed("structure", error, structureHints(token)));
  }

  let keyRows: DoctorCheck[] = [];
  let claimRows: DoctorCheck[] = [];
  if (parsed) {
    // --- header --------------------------------------------------------------
    let kid: string | undefined = typeof parsed.header.kid === "string" ? parsed.header.kid : undefined;
    try {
      ({ kid } = checkHeader(parsed.header));
      add({
        rule: "header",
        status: "pass",
        message: `alg HS256, typ JWT, ${kid === undefined ? "no kid (the gateway tries the current key, then the previous one)" : `kid "${kid}"`}`,
      });
    } catch (error) {
      add(failed("header", error, [`header: ${JSON.stringify(parsed.header).slice(0, 200)}`, 'send exactly {"alg":"HS256","typ":"JWT"}']));
    }
    keyRows = await signatureChecks(token, input.keys, kid, nowSeconds);
    claimRows = claimChecks(parsed.payload, policyPartner, nowSeconds);
  } else {
    keyRows = [{ rule: "signature", status: "skip", message: "not checked: the token could not be parsed" }];
    claimRows = [{ rule: "claims", status: "skip", message: "not checked: the token could not be parsed" }];
  }
  checks.push(...keyRows, ...claimRows);

  const jti = parsed?.payload.jti;
  const exp = parsed?.payload.exp;
  add({
    rule: "replay",
    status: "info",
    message: "not checkable offline: the gateway accepts each jti of a partner once",
    hints: [
      typeof jti === "string" && Number.isSafeInteger(exp)
        ? `jti "${jti.slice(0, 64)}" is remembered until ${isoSeconds(replayWindowEnd({ exp: exp as number }))} (exp + ${CLOCK_TOLERANCE_SECONDS} s); mint a fresh token for every sign-in`
        : "mint a fresh token (new jti) for every sign-in",
    ],
  });

  const verdict = await decide(input, partnerId, requestFailures, policyPartner, checks);
  return {
    ok: verdict.outcome === "pass",
    verdict,
    environment: config.environment,
    ...(partnerId === undefined ? {} : { partnerId }),
    at: new Date(input.nowMs).toISOString(),
    ...(input.keys.kind === "keys" ? { keySource: input.keys.source } : {}),
    checks,
  };
}

/** The gateway's answer, in the gateway's order: partner, origin, path, then the whole token policy. */
async function decide(
  input: DoctorInput,
  partnerId: string | undefined,
  requestFailures: readonly EmbedError[],
  policyPartner: Pick<PartnerConfig, "id" | "maxTokenLifetimeSeconds">,
  checks: readonly DoctorCheck[],
): Promise<Verdict> {
  const first = requestFailures[0];
  if (first) return refused(first);
  if (partnerId === undefined) return { outcome: "inconclusive", message: "the partner is unknown: pass --partner <id>" };

  const tokenRows = checks.filter((c) => !["partner", "origin", "path", "replay"].includes(c.rule));
  if (input.keys.kind === "unavailable") {
    // The gateway checks structure and header before the signature, so those answers are exact without a key.
    const early = tokenRows.find((c) => (c.rule === "structure" || c.rule === "header") && c.status === "fail");
    if (early?.code) return { outcome: "refused", code: early.code, status: STATUS_OF[early.code], message: early.message };
    const later = tokenRows.find((c) => c.status === "fail");
    return {
      outcome: "inconclusive",
      message: `the signature was not checked (${input.keys.reason})${later?.code ? `; the claims alone would be refused with ${later.code}` : ""}`,
      ...(later?.code ? { code: later.code, status: STATUS_OF[later.code] } : {}),
    };
  }

  try {
    await verifyPartnerToken(input.token, policyPartner, input.keys.keys, input.nowMs);
  } catch (error) {
    const embed = asEmbedError(error);
    if (!tokenRows.some((c) => c.status === "fail")) {
      throw new Error(`token doctor disagrees with the gateway: no rule failed, but the gateway says ${embed.code}`);
    }
    return refused(embed);
  }
  const rowFailure = tokenRows.find((c) => c.status === "fail");
  if (rowFailure) throw new Error(`token doctor disagrees with the gateway: rule ${rowFailure.rule} failed, but the token verifies`);
  return { outcome: "pass", status: 200 };
}

function refused(error: EmbedError): Verdict {
  return { outcome: "refused", code: error.code, status: STATUS_OF[error.code], message: error.message };
}

async function signatureChecks(token: string, source: KeySource, kid: string | undefined, nowSeconds: number): Promise<DoctorCheck[]> {
  if (source.kind === "unavailable") {
    return [{ rule: "signature", status: "skip", message: `not checked: ${source.reason}`, hints: ["pass --secret-file <file> or --env <env> with access to the partner's secret"] }];
  }
  const rows: DoctorCheck[] = [];
  const describeKey = (key: PartnerKey) =>
    `${key.stage} (kid ${key.kid}${key.notAfter === undefined ? "" : `, accepted until ${isoSeconds(key.notAfter)}, ${relative(key.notAfter, nowSeconds)}`})`;
  const candidates = candidateKeys(source.keys, kid, nowSeconds);
  const excluded = source.keys.filter((key) => !candidates.includes(key));
  const exclusionReasons = excluded.map((key) => `${describeKey(key)}: ${whyExcluded(key, kid, nowSeconds)}`);
  if (candidates.length === 0) {
    rows.push({
      rule: "keys",
      status: "fail",
      code: "TOKEN_SIGNATURE_INVALID",
      message: source.keys.length === 0 ? "this partner has no signing key" : kid === undefined ? "no active key" : `no active key with kid "${kid}"`,
      hints: exclusionReasons,
    });
  } else {
    rows.push({
      rule: "keys",
      status: "pass",
      message: `${candidates.length} key${candidates.length === 1 ? "" : "s"} to try: ${candidates.map(describeKey).join("; ")}`,
      ...(exclusionReasons.length ? { hints: exclusionReasons } : {}),
    });
  }

  let matched: PartnerKey | undefined;
  let failure: unknown;
  if (candidates.length > 0) {
    try {
      matched = await verifySignature(token, candidates);
    } catch (error) {
      failure = error;
    }
  }
  if (matched) {
    rows.push({
      rule: "signature",
      status: "pass",
      message: `matches the ${matched.stage} key (kid ${matched.kid})`,
      ...(matched.stage === "previous"
        ? {
            hints: [
              `the partner still signs with the previous secret${matched.notAfter === undefined ? "" : `, accepted until ${isoSeconds(matched.notAfter)} (${relative(matched.notAfter, nowSeconds)})`}: switch to the current one`,
            ],
          }
        : {}),
    });
    return rows;
  }
  // Why not: a key the gateway would not try, or a classic mistake with the secret.
  const hints: string[] = [];
  for (const key of excluded) {
    if (await signedWith(token, key)) hints.push(`the token IS signed with the ${describeKey(key)}, but the gateway does not try that key: ${whyExcluded(key, kid, nowSeconds)}`);
  }
  hints.push(...mistakeHints(token, source.keys));
  if (hints.length === 0) {
    hints.push(
      "signed with a different secret: check the partner uses this environment's secret, exactly as handed over (UTF-8 string, no quotes, no newline)",
    );
  }
  if (failure !== undefined && !(failure instanceof EmbedError && failure.code === "TOKEN_SIGNATURE_INVALID")) {
    rows.push({ ...failedRow("signature", failure), hints });
  } else {
    rows.push({
      rule: "signature",
      status: "fail",
      code: "TOKEN_SIGNATURE_INVALID",
      message: failure instanceof EmbedError ? failure.message : "no key to verify the signature with",
      hints,
    });
  }
  return rows;
}

function failedRow(rule: string, error: unknown): DoctorCheck {
  const embed = asEmbedError(error);
  return { rule, status: "fail", code: embed.code, message: embed.message };
}

function whyExcluded(key: PartnerKey, kid: string | undefined, nowSeconds: number): string {
  if (Buffer.byteLength(key.secret, "utf8") < MIN_SECRET_BYTES) return `the key is shorter than ${MIN_SECRET_BYTES} bytes and never used`;
  if (key.notAfter !== undefined && nowSeconds > key.notAfter) return `its rotation overlap ended ${relative(key.notAfter, nowSeconds)}`;
  if (kid !== undefined && key.kid !== kid) return `the header's kid "${kid}" selects another key; drop kid or send "${key.kid}"`;
  return "not selected";
}

async function signedWith(token: string, key: PartnerKey): Promise<boolean> {
  try {
    await verifySignature(token, [key]);
    return true;
  } catch {
    return false;
  }
}

/** Signatures made with a near miss of a real key: a hint, never a rule. */
function mistakeHints(token: string, keys: readonly PartnerKey[]): string[] {
  const dot = token.lastIndexOf(".");
  const signingInput = token.slice(0, dot);
  let signature: Buffer;
  try {
    signature = Buffer.from(token.slice(dot + 1), "base64url");
  } catch {
    return [];
  }
  const matches = (keyBytes: Buffer) => {
    const mac = createHmac("sha256", keyBytes).update(signingInput).digest();
    return mac.length === signature.length && timingSafeEqual(mac, signature);
  };
  const hints: string[] = [];
  for (const key of keys) {
    const variants: Array<[Buffer, string]> = [
      [Buffer.from(`${key.secret}\n`, "utf8"), "the secret plus a trailing newline (read from a file or env var without trimming it)"],
      [Buffer.from(`${key.secret}\r\n`, "utf8"), "the secret plus a trailing CRLF"],
      [Buffer.from(key.secret.trim(), "utf8"), "the secret with surrounding whitespace trimmed"],
      [Buffer.from(key.secret, "base64"), "the base64-DECODED secret; use the secret string's UTF-8 bytes as the key"],
      [Buffer.from(key.secret, "base64url"), "the base64url-DECODED secret; use the secret string's UTF-8 bytes as the key"],
    ];
    for (const [bytes, what] of variants) {
      if (bytes.length > 0 && !bytes.equals(Buffer.from(key.secret, "utf8")) && matches(bytes)) {
        hints.push(`the token is signed with ${what} (${key.stage} key, kid ${key.kid})`);
        break;
      }
    }
  }
  return hints;
}

/**
 * One row per claim: the token's claim inside a baseline that passes, judged
 * by checkClaims. Optional claims the token does not carry are "info".
 */
function claimChecks(
  payload: Record<string, unknown>,
  partner: Pick<PartnerConfig, "id" | "maxTokenLifetimeSeconds">,
  nowSeconds: number,
): DoctorCheck[] {
  const baseline: Record<string, unknown> = {
    iss: partner.id,
    aud: TOKEN_AUDIENCE,
    sub: "doctor",
    iat: nowSeconds,
    exp: nowSeconds + 1,
    jti: "doctor",
  };
  checkClaims(baseline, partner, nowSeconds); // a baseline that does not pass is a bug here, not in the token
  const has = (name: string) => Object.hasOwn(payload, name);
  const judge = (rule: string, names: readonly string[], describe: () => string, hints: () => string[] = () => []): DoctorCheck => {
    const variant: Record<string, unknown> = { ...baseline };
    for (const name of names) {
      if (has(name)) variant[name] = payload[name];
      else delete variant[name];
    }
    try {
      checkClaims(variant, partner, nowSeconds);
      return { rule, status: "pass", message: describe() };
    } catch (error) {
      const embed = asEmbedError(error);
      const extra = hints();
      return { rule, status: "fail", code: embed.code, message: `${embed.message}; the token has ${describe()}`, ...(extra.length ? { hints: extra } : {}) };
    }
  };
  const show = (name: string) => (has(name) ? describeValue(payload[name]) : "no such claim");
  const optional = (name: string, describe: () => string): DoctorCheck =>
    has(name) ? judge(name, [name], describe) : { rule: name, status: "info", message: "absent (optional)" };

  const rows: DoctorCheck[] = [
    judge("iss", ["iss"], () => `iss ${show("iss")}`, () => [`iss must be exactly the partner id "${partner.id}"`]),
    judge("aud", ["aud"], () => `aud ${show("aud")}`, () => [`aud must be the string "${TOKEN_AUDIENCE}" (not an array, not a URL)`]),
    judge("sub", ["sub"], () => `sub ${show("sub")}`),
    judge("time", ["iat", "exp", "nbf"], () => timeSummary(payload, partner, nowSeconds), () => timeHints(payload, partner, nowSeconds)),
    judge("jti", ["jti"], () => `jti ${show("jti")}`, () => ["use a fresh random id (e.g. a UUID) for every token"]),
    optional("email", () => `email ${show("email")}`),
    optional("name", () => `name ${show("name")}`),
    optional("payload", () => {
      const value = payload.payload;
      return typeof value === "object" && value !== null && !Array.isArray(value)
        ? `payload object with ${Object.keys(value).length} key${Object.keys(value).length === 1 ? "" : "s"}, ${Buffer.byteLength(JSON.stringify(value), "utf8")} bytes`
        : `payload ${describeValue(value)}`;
    }),
  ];
  const unknown = Object.keys(payload).filter((name) => !["iss", "aud", "sub", "iat", "exp", "nbf", "jti", "email", "name", "payload"].includes(name));
  if (unknown.length > 0) rows.push({ rule: "other", status: "info", message: `ignored claims: ${unknown.join(", ")}` });
  return rows;
}

function timeSummary(payload: Record<string, unknown>, partner: Pick<PartnerConfig, "maxTokenLifetimeSeconds">, nowSeconds: number): string {
  const { iat, exp, nbf } = payload;
  const parts: string[] = [];
  if (Number.isSafeInteger(iat)) parts.push(`iat ${isoSeconds(iat as number)} (${relative(iat as number, nowSeconds)})`);
  else parts.push(`iat ${describeValue(iat)}`);
  if (Number.isSafeInteger(exp)) parts.push(`exp ${isoSeconds(exp as number)} (${relative(exp as number, nowSeconds)})`);
  else parts.push(`exp ${describeValue(exp)}`);
  if (Number.isSafeInteger(iat) && Number.isSafeInteger(exp)) {
    parts.push(`lifetime ${(exp as number) - (iat as number)} s of at most ${partner.maxTokenLifetimeSeconds} s`);
  }
  if (nbf !== undefined) parts.push(`nbf ${Number.isSafeInteger(nbf) ? `${isoSeconds(nbf as number)} (${relative(nbf as number, nowSeconds)})` : describeValue(nbf)}`);
  return parts.join(", ");
}

function timeHints(payload: Record<string, unknown>, partner: Pick<PartnerConfig, "maxTokenLifetimeSeconds">, nowSeconds: number): string[] {
  const { iat, exp } = payload;
  const hints: string[] = [];
  if (typeof iat === "number" && !Number.isInteger(iat)) hints.push("iat must be whole seconds: Math.floor(Date.now() / 1000), not milliseconds or fractions");
  if (typeof iat === "number" && iat > 1e11) hints.push("iat looks like milliseconds: JWT times are seconds since the epoch");
  if (typeof exp === "number" && exp > 1e11) hints.push("exp looks like milliseconds: JWT times are seconds since the epoch");
  if (Number.isSafeInteger(iat) && (iat as number) <= 1e11 && (iat as number) > nowSeconds + CLOCK_TOLERANCE_SECONDS) {
    hints.push(`iat is ${duration((iat as number) - nowSeconds)} ahead of now: the signing server's clock is fast (tolerance ${CLOCK_TOLERANCE_SECONDS} s); sync it with NTP`);
  }
  if (Number.isSafeInteger(exp) && nowSeconds > (exp as number) + CLOCK_TOLERANCE_SECONDS) {
    hints.push("the token expired: mint it when the page asks for it (getToken), not at page render, and never cache it");
  }
  if (Number.isSafeInteger(iat) && Number.isSafeInteger(exp) && (exp as number) - (iat as number) > partner.maxTokenLifetimeSeconds) {
    hints.push(`set exp = iat + ${partner.maxTokenLifetimeSeconds} or less`);
  }
  return hints;
}

function structureHints(token: string): string[] {
  const hints: string[] = [];
  if (/^\s|\s$/.test(token)) hints.push("the token has leading or trailing whitespace: send it exactly as signed");
  if (/^bearer\s/i.test(token)) hints.push('send the token itself, without a "Bearer " prefix');
  if (/^["']/.test(token)) hints.push("the token is wrapped in quotes: send the string itself, not its JSON encoding");
  if (token.includes("=")) hints.push("base64url segments carry no '=' padding");
  if (/[+/]/.test(token)) hints.push("the token uses base64 (+ /), not base64url (- _)");
  return hints;
}

function originHint(origin: string): string {
  try {
    const url = new URL(origin);
    if (url.origin !== origin) return `an origin is scheme://host[:port] only: did you mean ${url.origin}?`;
  } catch {
    return "an origin looks like https://app.partner.example";
  }
  return "ask Jupid to add the origin to the partner's allowedOrigins (config change + deploy)";
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function asEmbedError(error: unknown): EmbedError {
  if (error instanceof EmbedError) return error;
  return new EmbedError("INTERNAL", error instanceof Error ? error.message : String(error));
}
