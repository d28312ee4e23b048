/**
 * HTTP against the deployed API Gateway stage, as a browser, a partner server
 * and the Jupid app would call it: plain requests, form posts, a cookie the
 * caller carries explicitly, and SigV4-signed requests for the IAM-authorised
 * `/internal/*` routes (signed with the same credentials the SDK clients use,
 * so the dummy ones for an emulator and real ones for an account).
 */
import { createHash, createHmac } from "node:crypto";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The Set-Cookie headers, one entry per cookie. */
  readonly setCookies: readonly string[];
  /** The body parsed as JSON; throws with the body when it is not JSON. */
  json<T = Record<string, unknown>>(): T;
  /** `error.code` of a JSON error body, or undefined. */
  readonly errorCode: string | undefined;
}

export interface RequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as application/json. */
  readonly json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  readonly form?: Readonly<Record<string, string>>;
  /** A raw `Cookie` header value. */
  readonly cookie?: string;
  /** Sign with SigV4 for execute-api (IAM-authorised routes). */
  readonly signed?: boolean;
}

export class Api {
  constructor(
    /** Stage base URL without a trailing slash, e.g. http://127.0.0.1:4566/_aws/execute-api/abc123/live */
    readonly baseUrl: string,
    private readonly region: string,
  ) {}

  async request(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const url = new URL(`${this.baseUrl}${path}`);
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] = "application/json";
    } else if (options.form !== undefined) {
      body = new URLSearchParams(options.form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    }
    if (options.cookie !== undefined) headers.cookie = options.cookie;
    if (options.signed) Object.assign(headers, await signV4(method, url, headers, body ?? "", this.region));
    const response = await fetch(url, { method, headers, body, redirect: "manual" });
    const text = await response.text();
    return toApiResponse(method, url, response, text);
  }
}

function toApiResponse(method: string, url: URL, response: Response, text: string): ApiResponse {
  let errorCode: string | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown } };
    if (typeof parsed?.error?.code === "string") errorCode = parsed.error.code;
  } catch {
    // not JSON
  }
  return {
    status: response.status,
    headers: response.headers,
    text,
    setCookies: response.headers.getSetCookie(),
    errorCode,
    json<T>() {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new Error(`${method} ${url.pathname} -> ${response.status}: body is not JSON: ${text.slice(0, 300)}`);
      }
    },
  };
}

/** A one-line summary for assertion messages and figures. */
export function summary(response: ApiResponse): string {
  return `${response.status} ${response.errorCode ?? ""} ${response.text.slice(0, 160)}`.trim();
}

/** The value of cookie `name` set by a response, or undefined. */
export function cookieValue(response: ApiResponse, name: string): string | undefined {
  for (const cookie of response.setCookies) {
    const [pair] = cookie.split(";");
    const index = pair?.indexOf("=") ?? -1;
    if (pair && index > 0 && pair.slice(0, index).trim() === name) return pair.slice(index + 1).trim();
  }
  return undefined;
}

/** The attributes of cookie `name` (lower-cased, without its value), e.g. ["path=/", "secure", "httponly"]. */
export function cookieAttributes(response: ApiResponse, name: string): string[] {
  const cookie = response.setCookies.find((value) => value.trimStart().startsWith(`${name}=`));
  if (!cookie) return [];
  return cookie
    .split(";")
    .slice(1)
    .map((part) => part.trim().toLowerCase());
}

// --- SigV4 (execute-api) -------------------------------------------------------------------

let credentialSource: SecretsManagerClient | undefined;

/**
 * Headers that sign a request for `execute-api` (AWS Signature Version 4,
 * header form). Credentials come from the SDK's default chain, the same as
 * the AWS clients of the suite.
 */
async function signV4(
  method: string,
  url: URL,
  headers: Readonly<Record<string, string>>,
  body: string,
  region: string,
): Promise<Record<string, string>> {
  credentialSource ??= new SecretsManagerClient({});
  const credentials = await credentialSource.config.credentials();
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, "");
  const date = amzDate.slice(0, 8);
  const signed: Record<string, string> = { "x-amz-date": amzDate };
  if (credentials.sessionToken) signed["x-amz-security-token"] = credentials.sessionToken;

  const all: Record<string, string> = { host: url.host, ...lowerKeys(headers), ...signed };
  const names = Object.keys(all).sort();
  const canonicalHeaders = names.map((name) => `${name}:${(all[name] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const signedHeaders = names.join(";");
  // Non-S3 services: each path segment URI-encoded twice.
  const canonicalPath = url.pathname
    .split("/")
    .map((segment) => rfc3986(rfc3986(decodeURIComponent(segment))))
    .join("/");
  const canonicalQuery = [...url.searchParams.entries()]
    .map(([key, value]) => [rfc3986(key), rfc3986(value)] as const)
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : x > y ? 1 : 0) : a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
  const canonicalRequest = [method, canonicalPath, canonicalQuery, canonicalHeaders, signedHeaders, sha256(body)].join("\n");
  const scope = `${date}/${region}/execute-api/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, date);
  for (const part of [region, "execute-api", "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(stringToSign).digest("hex");
  return {
    ...signed,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

function lowerKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

function hmac(key: string | Buffer, value: string): Buffer {
  return createHmac("sha256", key).update(value, "utf8").digest();
}
