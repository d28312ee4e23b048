/**
 * The partner-configuration schema and its types.
 *
 * One file per environment (`config/partners.<env>.json`) is parsed here, at
 * synth time by the CDK app and at start-up by the local gateway. Nothing in
 * this module imports CDK or an AWS SDK, so every layer can share it.
 * Secret values never live in these files: only partner ids, origins and
 * behaviour.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// zod/mini: the same validator with a functional API that tree-shakes, so each Lambda
// bundle carries ~25 KB of it instead of ~440 KB (see test/unit/budgets.test.ts).
import en from "zod/v4/locales/en.js";
import * as z from "zod/mini";

// English messages only: `z.locales` would bundle every language.
z.config(en());

export const ENVIRONMENTS = ["local", "integration", "staging", "production"] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

export const SHELL_MODES = ["full", "embedded", "minimal"] as const;
export type ShellMode = (typeof SHELL_MODES)[number];

export const PARTNER_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;
export const DEFAULT_FIRST_RUN_PATH = "/onboarding/connect-accounts";
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 300;
export const MAX_TOKEN_LIFETIME_SECONDS = 900;

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Is `host` (as in `URL.hostname`) a loopback name or address? */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || hostname.startsWith("127.") || hostname.endsWith(".localhost");
}

/** Why `value` is not an exact origin, or undefined when it is one. */
export function originProblem(value: string): string | undefined {
  if (value === "null" || value.includes("*")) return `"${value}" is not an exact origin (no wildcards, never "null")`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not a URL origin`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `"${value}" must use http or https`;
  if (url.origin !== value) {
    return `"${value}" must be exactly scheme://host[:port] (lower-case, no path, no trailing slash); did you mean "${url.origin}"?`;
  }
  return undefined;
}

/**
 * An origin is exactly `scheme://host[:port]`: what a browser puts in
 * `MessageEvent.origin` and `Origin`, and what CSP `frame-ancestors` matches.
 * Anything else (a path, a wildcard, `null`, a trailing slash) is refused so
 * that an allowlist entry can only ever mean one origin.
 */
const origin = z.string().check(
  z.superRefine((value, ctx) => {
    const problem = originProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: value });
  }),
);

const appPath = z
  .string()
  .check(z.regex(/^\/(?!\/)[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, "must be an absolute path on the app, like /dashboard"));

const colour = z.string().check(z.regex(/^#[0-9a-fA-F]{6}$/, "must be a #rrggbb colour"));
const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const integer = (min: number, max?: number) =>
  max === undefined ? z.number().check(z.int(), z.minimum(min)) : z.number().check(z.int(), z.minimum(min), z.maximum(max));

/** How Jupid authenticates at the partner's token endpoint (the secret lives in Secrets Manager). */
export const OIDC_CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"] as const;
export type OidcClientAuthMethod = (typeof OIDC_CLIENT_AUTH_METHODS)[number];
export const DEFAULT_OIDC_SCOPES = ["openid", "email", "profile"] as const;
/** Stored subjects of OIDC logins get this prefix unless the partner shares one subject space (ADR 0010). */
export const OIDC_SUBJECT_PREFIX = "oidc:";

/**
 * The partner's OpenID provider, for the OIDC entrypoint (/partner/{id}/oidc/*).
 * `subjects`: "shared" when the provider's `sub` is the same user id the
 * partner puts in embed tokens, so both paths reach one Jupid user;
 * "separate" (default) stores OIDC subjects as `oidc:<sub>`.
 */
export const oidcSchema = z.strictObject({
  issuer: z.url({ protocol: /^https?$/ }),
  clientId: text(255),
  scopes: z._default(
    z
      .array(z.string().check(z.regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/, "must be an OAuth scope token")))
      .check(
        z.refine((scopes) => scopes.includes("openid"), "must include openid"),
        z.maxLength(20),
      ),
    [...DEFAULT_OIDC_SCOPES],
  ),
  clientAuth: z._default(z.enum(OIDC_CLIENT_AUTH_METHODS), "client_secret_basic"),
  subjects: z._default(z.enum(["shared", "separate"]), "separate"),
  /** Sent as `max_age`; the ID token's `auth_time` must then be at most this old. */
  maxAgeSeconds: z.optional(integer(0, 30 * 24 * 3600)),
});

export type OidcConfig = z.output<typeof oidcSchema>;

export const partnerSchema = z.strictObject({
  id: z.string().check(z.regex(PARTNER_ID_PATTERN, "must match ^[a-z0-9][a-z0-9-]{1,62}$")),
  displayName: text(100),
  enabled: z._default(z.boolean(), true),
  allowedOrigins: z.array(origin).check(z.minLength(1), z.maxLength(20)),
  branding: z.strictObject({
    displayName: text(100),
    logoUrl: z.optional(z.url({ protocol: /^https?$/ })),
    primaryColor: colour,
  }),
  shell: z.strictObject({
    mode: z._default(z.enum(SHELL_MODES), "embedded"),
    chat: z._default(z.boolean(), true),
    /** Which of the shell defaults the SDK's `shell`/`chat` options may override. */
    allowOverride: z._default(
      z.strictObject({ mode: z._default(z.boolean(), false), chat: z._default(z.boolean(), false) }),
      { mode: false, chat: false },
    ),
  }),
  firstRunPath: z._default(appPath, DEFAULT_FIRST_RUN_PATH),
  /** Path prefixes `initialPath` must fall under (segment-wise); absent = any app path. */
  allowedPaths: z.optional(z.array(appPath).check(z.minLength(1))),
  freeLimit: z.strictObject({
    metric: z.string().check(z.regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lower-case metric name")),
    threshold: integer(0),
  }),
  maxTokenLifetimeSeconds: z._default(integer(30, MAX_TOKEN_LIFETIME_SECONDS), DEFAULT_TOKEN_LIFETIME_SECONDS),
  /** The partner's OpenID provider; absent = no OIDC entrypoint (OIDC_NOT_CONFIGURED). */
  oidc: z.optional(oidcSchema),
});

export type PartnerConfig = z.output<typeof partnerSchema>;
export type PartnerConfigInput = z.input<typeof partnerSchema>;

export const environmentSchema = z
  .strictObject({
    environment: z.enum(ENVIRONMENTS),
    /** Origin that serves embed.js, /embed/* and the workspace; production is https://app.jupid.com. */
    appUrl: origin,
    /** Prefix of workspace paths on appUrl ("" when the real app serves /, "/app" for the stub workspace). */
    workspaceBasePath: z._default(z.string().check(z.regex(/^(\/[a-z0-9-]+)*$/, "must be empty or like /app")), ""),
    sessionLifetimeSeconds: z._default(integer(300, 7 * 24 * 3600), 8 * 3600),
    /** A session unused for this long ends, whatever its lifetime left (every use extends it). */
    sessionIdleTimeoutSeconds: z._default(integer(60, 24 * 3600), 30 * 60),
    /** How long the previous partner key stays valid after a rotation. */
    keyRotationOverlapSeconds: z._default(integer(0, 30 * 24 * 3600), 24 * 3600),
    /** How long partner keys and records are cached in a warm process. */
    cacheSeconds: z._default(integer(0, 900), 300),
    /** AWS account and region for the stack; the CLI's defaults when absent. */
    aws: z.optional(
      z.strictObject({
        account: z.optional(z.string().check(z.regex(/^\d{12}$/))),
        region: z.optional(z.string().check(z.minLength(1))),
      }),
    ),
    /** Custom domain for CloudFront (needs an ACM certificate in us-east-1). */
    domain: z.optional(
      z.strictObject({ name: z.string().check(z.minLength(1)), certificateArn: z.string().check(z.startsWith("arn:")) }),
    ),
    /** Origin of the real Jupid app behind CloudFront's default behaviour; the stub workspace when absent. */
    workspaceOrigin: z.optional(z.string()),
    partners: z.array(partnerSchema),
  })
  .check(
    z.superRefine((env, ctx) => {
      const seen = new Set<string>();
      env.partners.forEach((partner, index) => {
        if (seen.has(partner.id)) {
          ctx.addIssue({ code: "custom", path: ["partners", index, "id"], message: `duplicate partner id "${partner.id}"`, input: partner.id });
        }
        seen.add(partner.id);
        if (partner.oidc) {
          const problem = oidcIssuerProblem(partner.oidc.issuer, env.environment);
          if (problem) ctx.addIssue({ code: "custom", path: ["partners", index, "oidc", "issuer"], message: problem, input: partner.oidc.issuer });
        }
        if (env.environment === "production") {
          partner.allowedOrigins.forEach((value, originIndex) => {
            const url = new URL(value);
            if (url.protocol !== "https:" || isLoopbackHost(url.hostname)) {
              ctx.addIssue({
                code: "custom",
                path: ["partners", index, "allowedOrigins", originIndex],
                message: `"${value}" is not allowed in production (https only, no localhost or loopback)`,
                input: value,
              });
            }
          });
        }
      });
      if (env.environment === "production" && !env.appUrl.startsWith("https://")) {
        ctx.addIssue({ code: "custom", path: ["appUrl"], message: "production appUrl must be https", input: env.appUrl });
      }
    }),
  );

export type EnvironmentConfig = z.output<typeof environmentSchema>;

/**
 * Why an issuer is not acceptable in an environment: https everywhere, with no
 * query or fragment (OIDC Discovery §2); plain http only for a loopback
 * provider in `local` and `integration` (the test providers).
 */
export function oidcIssuerProblem(issuer: string, environment: EnvironmentName): string | undefined {
  const url = new URL(issuer);
  if (url.search || url.hash) return `"${issuer}" must not have a query or fragment`;
  if (url.protocol === "https:") return undefined;
  if ((environment === "local" || environment === "integration") && isLoopbackHost(url.hostname)) return undefined;
  return `"${issuer}" must be https (plain http only for a loopback provider in local and integration)`;
}

/** Raised when a partner file is unreadable or invalid; the message names the file, the partner and the field. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Parse an already-loaded JSON value; `source` names the file in error messages. */
export function parseEnvironmentConfig(value: unknown, source: string): EnvironmentConfig {
  const result = environmentSchema.safeParse(value);
  if (result.success) return result.data;
  const raw = value as { partners?: Array<{ id?: unknown }> } | null;
  const lines = result.error.issues.map((issue) => {
    const [head, index, ...rest] = issue.path;
    let where = issue.path.join(".") || "(file)";
    if (head === "partners" && typeof index === "number") {
      const id = raw?.partners?.[index]?.id;
      const partner = typeof id === "string" ? `partner "${id}"` : `partners[${index}]`;
      where = rest.length > 0 ? `${partner} field ${rest.join(".")}` : partner;
    } else if (issue.path.length > 0) {
      where = `field ${where}`;
    }
    return `  - ${where}: ${issue.message}`;
  });
  return fail(`${source}: invalid partner configuration\n${lines.join("\n")}`, source);
}

function fail(message: string, file: string, cause?: unknown): never {
  throw new ConfigError(message, file, { cause });
}

export const CONFIG_DIR = dirname(fileURLToPath(import.meta.url));

/** The path of `config/partners.<env>.json`. */
export function partnersFile(env: EnvironmentName): string {
  return join(CONFIG_DIR, `partners.${env}.json`);
}

/** Read and validate a partner file; throws {@link ConfigError} naming the file. */
export function loadEnvironmentConfig(file: string): EnvironmentConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    return fail(`${file}: cannot read partner configuration (${(cause as Error).message})`, file, cause);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    return fail(`${file}: not valid JSON (${(cause as Error).message})`, file, cause);
  }
  return parseEnvironmentConfig(json, file);
}

export function isEnvironmentName(value: string): value is EnvironmentName {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}
