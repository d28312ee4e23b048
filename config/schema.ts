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
import { z } from "zod";

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

/**
 * An origin is exactly `scheme://host[:port]`: what a browser puts in
 * `MessageEvent.origin` and `Origin`, and what CSP `frame-ancestors` matches.
 * Anything else (a path, a wildcard, `null`, a trailing slash) is refused so
 * that an allowlist entry can only ever mean one origin.
 */
const origin = z.string().superRefine((value, ctx) => {
  if (value === "null" || value.includes("*")) {
    ctx.addIssue({ code: "custom", message: `"${value}" is not an exact origin (no wildcards, never "null")` });
    return;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: "custom", message: `"${value}" is not a URL origin` });
    return;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    ctx.addIssue({ code: "custom", message: `"${value}" must use http or https` });
    return;
  }
  if (url.origin !== value) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" must be exactly scheme://host[:port] (lower-case, no path, no trailing slash); did you mean "${url.origin}"?`,
    });
  }
});

const appPath = z
  .string()
  .regex(/^\/(?!\/)[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, "must be an absolute path on the app, like /dashboard");

const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, "must be a #rrggbb colour");

export const partnerSchema = z
  .object({
    id: z.string().regex(PARTNER_ID_PATTERN, "must match ^[a-z0-9][a-z0-9-]{1,62}$"),
    displayName: z.string().min(1).max(100),
    enabled: z.boolean().default(true),
    allowedOrigins: z.array(origin).min(1).max(20),
    branding: z
      .object({
        displayName: z.string().min(1).max(100),
        logoUrl: z.url({ protocol: /^https?$/ }).optional(),
        primaryColor: colour,
      })
      .strict(),
    shell: z
      .object({
        mode: z.enum(SHELL_MODES).default("embedded"),
        chat: z.boolean().default(true),
        /** Which of the shell defaults the SDK's `shell`/`chat` options may override. */
        allowOverride: z
          .object({ mode: z.boolean().default(false), chat: z.boolean().default(false) })
          .strict()
          .default({ mode: false, chat: false }),
      })
      .strict(),
    firstRunPath: appPath.default(DEFAULT_FIRST_RUN_PATH),
    /** Path prefixes `initialPath` must fall under (segment-wise); absent = any app path. */
    allowedPaths: z.array(appPath).min(1).optional(),
    freeLimit: z
      .object({
        metric: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lower-case metric name"),
        threshold: z.number().int().min(0),
      })
      .strict(),
    maxTokenLifetimeSeconds: z.number().int().min(30).max(MAX_TOKEN_LIFETIME_SECONDS).default(DEFAULT_TOKEN_LIFETIME_SECONDS),
  })
  .strict();

export type PartnerConfig = z.output<typeof partnerSchema>;
export type PartnerConfigInput = z.input<typeof partnerSchema>;

export const environmentSchema = z
  .object({
    environment: z.enum(ENVIRONMENTS),
    /** Origin that serves embed.js, /embed/* and the workspace; production is https://app.jupid.com. */
    appUrl: origin,
    /** Prefix of workspace paths on appUrl ("" when the real app serves /, "/app" for the stub workspace). */
    workspaceBasePath: z
      .string()
      .regex(/^(\/[a-z0-9-]+)*$/, "must be empty or like /app")
      .default(""),
    sessionLifetimeSeconds: z.number().int().min(300).max(7 * 24 * 3600).default(8 * 3600),
    /** How long the previous partner key stays valid after a rotation. */
    keyRotationOverlapSeconds: z.number().int().min(0).max(30 * 24 * 3600).default(24 * 3600),
    /** How long partner keys and records are cached in a warm process. */
    cacheSeconds: z.number().int().min(0).max(900).default(300),
    /** AWS account and region for the stack; the CLI's defaults when absent. */
    aws: z
      .object({ account: z.string().regex(/^\d{12}$/).optional(), region: z.string().min(1).optional() })
      .strict()
      .optional(),
    /** Custom domain for CloudFront (needs an ACM certificate in us-east-1). */
    domain: z
      .object({ name: z.string().min(1), certificateArn: z.string().startsWith("arn:") })
      .strict()
      .optional(),
    /** Origin of the real Jupid app behind CloudFront's default behaviour; the stub workspace when absent. */
    workspaceOrigin: z.string().optional(),
    partners: z.array(partnerSchema),
  })
  .strict()
  .superRefine((env, ctx) => {
    const seen = new Set<string>();
    env.partners.forEach((partner, index) => {
      if (seen.has(partner.id)) {
        ctx.addIssue({ code: "custom", path: ["partners", index, "id"], message: `duplicate partner id "${partner.id}"` });
      }
      seen.add(partner.id);
      if (env.environment === "production") {
        partner.allowedOrigins.forEach((value, originIndex) => {
          const url = new URL(value);
          if (url.protocol !== "https:" || isLoopbackHost(url.hostname)) {
            ctx.addIssue({
              code: "custom",
              path: ["partners", index, "allowedOrigins", originIndex],
              message: `"${value}" is not allowed in production (https only, no localhost or loopback)`,
            });
          }
        });
      }
    });
    if (env.environment === "production" && !env.appUrl.startsWith("https://")) {
      ctx.addIssue({ code: "custom", path: ["appUrl"], message: "production appUrl must be https" });
    }
  });

export type EnvironmentConfig = z.output<typeof environmentSchema>;

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
