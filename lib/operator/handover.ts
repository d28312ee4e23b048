/**
 * The "environment values" Jupid sends a newly approved partner: everything
 * needed to build the token endpoint and mount the embed, in one block.
 * Pure: the command decides whether the secret may be shown.
 */
import type { EnvironmentConfig, PartnerConfig } from "../../config/schema.ts";
import { CLOCK_TOLERANCE_SECONDS, MAX_JTI_LENGTH, MAX_PAYLOAD_BYTES, MAX_SUB_LENGTH, TOKEN_AUDIENCE } from "../../lambdas/core/token-policy.ts";
import { columns } from "./io.ts";

/** Where partners serve their token endpoint (the demo partner and every example use it). */
export const TOKEN_ENDPOINT_PATH = "/api/jupid/embed-token";

export interface HandoverSecret {
  /** The secret, or undefined when it must not be shown here. */
  readonly value?: string;
  /** How to get it printed when hidden. */
  readonly revealHint?: string;
  /** Where it lives on Jupid's side (Secrets Manager name or local file). */
  readonly location: string;
  /** kid of the current key (Secrets Manager VersionId), informational. */
  readonly kid?: string;
}

export interface Handover {
  readonly environment: string;
  readonly partnerId: string;
  readonly displayName: string;
  readonly enabled: boolean;
  readonly appUrl: string;
  readonly embedJsUrl: string;
  readonly embedJsVersionedUrl: string;
  readonly embedPageUrl: string;
  readonly redirectEntryUrl: string;
  readonly audience: string;
  readonly allowedOrigins: readonly string[];
  readonly allowedPaths?: readonly string[];
  readonly firstRunPath: string;
  readonly token: {
    readonly algorithm: "HS256";
    readonly header: { readonly alg: "HS256"; readonly typ: "JWT" };
    readonly issuer: string;
    readonly audience: string;
    readonly maxLifetimeSeconds: number;
    readonly clockToleranceSeconds: number;
    readonly claims: readonly { readonly name: string; readonly required: boolean; readonly rule: string }[];
  };
  readonly tokenEndpoint: { readonly method: "GET"; readonly path: string; readonly response: string };
  readonly secret: HandoverSecret;
}

export function buildHandover(config: EnvironmentConfig, partner: PartnerConfig, secret: HandoverSecret): Handover {
  const app = config.appUrl;
  return {
    environment: config.environment,
    partnerId: partner.id,
    displayName: partner.displayName,
    enabled: partner.enabled,
    appUrl: app,
    embedJsUrl: `${app}/embed.js`,
    embedJsVersionedUrl: `${app}/sdk/v1/embed.js`,
    embedPageUrl: `${app}/embed/${partner.id}`,
    redirectEntryUrl: `${app}/partner/${partner.id}/enter`,
    audience: TOKEN_AUDIENCE,
    allowedOrigins: partner.allowedOrigins,
    ...(partner.allowedPaths ? { allowedPaths: partner.allowedPaths } : {}),
    firstRunPath: partner.firstRunPath,
    token: {
      algorithm: "HS256",
      header: { alg: "HS256", typ: "JWT" },
      issuer: partner.id,
      audience: TOKEN_AUDIENCE,
      maxLifetimeSeconds: partner.maxTokenLifetimeSeconds,
      clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
      claims: [
        { name: "iss", required: true, rule: `exactly "${partner.id}"` },
        { name: "aud", required: true, rule: `exactly "${TOKEN_AUDIENCE}" (a string)` },
        { name: "sub", required: true, rule: `your stable user id; string, 1-${MAX_SUB_LENGTH} chars, compared byte-exact` },
        { name: "iat", required: true, rule: "issued-at, integer seconds since the epoch" },
        { name: "exp", required: true, rule: `integer seconds; exp - iat <= ${partner.maxTokenLifetimeSeconds}` },
        { name: "jti", required: true, rule: `unique per token (a UUID), <= ${MAX_JTI_LENGTH} chars; each is accepted once` },
        { name: "email", required: false, rule: "valid address; stored at the user's first sign-in only" },
        { name: "name", required: false, rule: "display name; updated at every sign-in" },
        { name: "payload", required: false, rule: `JSON object, <= ${MAX_PAYLOAD_BYTES} bytes; updated at every sign-in` },
      ],
    },
    tokenEndpoint: { method: "GET", path: TOKEN_ENDPOINT_PATH, response: '{"token":"<jwt>"}' },
    secret,
  };
}

/** The block an operator pastes into the (secure) channel to the partner. */
export function formatHandover(h: Handover): string {
  const lines: string[] = [];
  lines.push(`Jupid Embed — environment values for ${h.displayName} (${h.environment})`, "");
  lines.push(
    columns(
      [
        ["Partner ID", h.partnerId],
        ["App URL", h.appUrl],
        ["embed.js", `${h.embedJsUrl}  (pinned major version: ${h.embedJsVersionedUrl})`],
        ["Audience (aud)", h.audience],
        ...h.allowedOrigins.map((origin, i) => [i === 0 ? "Allowed origins" : "", origin]),
        ...(h.allowedPaths ? [["Allowed paths", h.allowedPaths.join(", ")]] : []),
        ["First-run path", `${h.firstRunPath}  (new users land here)`],
        ["Redirect entry", `${h.redirectEntryUrl}  (POST form token=…&path=…, for the no-iframe path)`],
        ...(h.enabled ? [] : [["Status", "DISABLED in this environment: sign-ins are refused (PARTNER_DISABLED)"]]),
      ],
      "  ",
    ),
  );
  lines.push("", "Token rules");
  lines.push(
    columns(
      [
        ["Signature", "HS256 over the UTF-8 bytes of the signing secret, exactly as given"],
        ["Header", '{"alg":"HS256","typ":"JWT"}  (no kid needed: Jupid tries the current key, then the previous one)'],
        ...h.token.claims.map((c) => [c.name, `${c.required ? "required" : "optional"}  ${c.rule}`]),
        ["Lifetime", `at most ${h.token.maxLifetimeSeconds} s; clocks may differ by ${h.token.clockToleranceSeconds} s`],
      ],
      "  ",
    ),
  );
  lines.push("", "Token endpoint (on your server, behind your own login)");
  lines.push(
    `  ${h.tokenEndpoint.method} ${h.tokenEndpoint.path} -> ${h.tokenEndpoint.response}, Cache-Control: no-store`,
    "  Mint a fresh token on every call; never sign in the browser, never log tokens or the secret.",
    `  In the page: JupidEmbed.mount({ partnerId: "${h.partnerId}", appUrl: "${h.appUrl}", container: "#jupid",`,
    `    getToken: () => fetch("${h.tokenEndpoint.path}").then((r) => r.json()).then((b) => b.token) })`,
  );
  lines.push("", "Signing secret");
  if (h.secret.value !== undefined) {
    lines.push(`  ${h.secret.value}`);
    lines.push(`  (store it in your secret manager; Jupid keeps it in ${h.secret.location}${h.secret.kid ? `, version ${h.secret.kid}` : ""})`);
  } else {
    lines.push(`  (hidden) ${h.secret.revealHint ?? ""}`.trimEnd());
    lines.push(`  Jupid keeps it in ${h.secret.location}${h.secret.kid ? `, version ${h.secret.kid}` : ""}`);
  }
  return `${lines.join("\n")}\n`;
}
