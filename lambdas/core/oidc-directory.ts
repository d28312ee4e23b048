/**
 * What Jupid knows about partners' OpenID providers: their discovery
 * metadata and signing keys, cached in the process (a warm Lambda keeps them
 * across invocations), fetched through the {@link ProviderFetch} port.
 *
 * Key rotation at the provider is handled by refetching the JWKS when a token
 * names a `kid` we do not have, but at most once per {@link DirectoryOptions.jwksRefetchFloorSeconds}
 * per issuer: a caller sending tokens with random `kid`s cannot make Jupid
 * hammer the provider (test/unit/oidc.test.ts counts the fetches).
 */
import { createLocalJWKSet, type JSONWebKeySet, errors as joseErrors } from "jose";
import * as oauth from "oauth4webapi";
import type { ProviderFetch } from "../ports/index.ts";
import { EmbedError } from "./errors.ts";

export interface DirectoryOptions {
  /** How long discovery metadata is kept. @default 3600 */
  readonly metadataTtlSeconds?: number;
  /** How long a JWKS is kept when every `kid` asked for is in it. @default 600 */
  readonly jwksTtlSeconds?: number;
  /** Minimum time between two JWKS fetches for one issuer, whatever `kid`s arrive. @default 60 */
  readonly jwksRefetchFloorSeconds?: number;
  /** Per request to a provider. @default 5000 */
  readonly timeoutMs?: number;
}

type KeyGetter = ReturnType<typeof createLocalJWKSet>;

interface Cached<T> {
  readonly value: Promise<T>;
  readonly fetchedAt: number;
}

const MAX_ISSUERS = 200;

/** A provider failure: never the caller's fault, so the one OIDC code that is a 5xx. */
export function providerUnavailable(message: string, cause?: unknown): EmbedError {
  return new EmbedError("OIDC_PROVIDER_UNAVAILABLE", message, {}, { cause });
}

export class ProviderDirectory {
  private readonly metadata = new Map<string, Cached<oauth.AuthorizationServer>>();
  private readonly jwks = new Map<string, Cached<KeyGetter>>();
  private readonly metadataTtl: number;
  private readonly jwksTtl: number;
  private readonly refetchFloor: number;
  readonly timeoutMs: number;

  constructor(
    readonly fetch: ProviderFetch,
    private readonly clock: () => number,
    options: DirectoryOptions = {},
  ) {
    this.metadataTtl = (options.metadataTtlSeconds ?? 3600) * 1000;
    this.jwksTtl = (options.jwksTtlSeconds ?? 600) * 1000;
    this.refetchFloor = (options.jwksRefetchFloorSeconds ?? 60) * 1000;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Options every oauth4webapi request takes: our fetch, a timeout, and plain http only for a loopback test issuer. */
  requestOptions(issuer: string): { [oauth.customFetch]: ProviderFetch; [oauth.allowInsecureRequests]: boolean; signal: AbortSignal } {
    return {
      [oauth.customFetch]: this.fetch,
      // The schema allows http only for loopback providers in local and integration.
      [oauth.allowInsecureRequests]: issuer.startsWith("http://"),
      signal: AbortSignal.timeout(this.timeoutMs),
    };
  }

  /** The provider's discovery metadata; its `issuer` is exactly `issuer` (OIDC Discovery §4.3, checked by oauth4webapi). */
  server(issuer: string): Promise<oauth.AuthorizationServer> {
    return this.cached(this.metadata, issuer, this.metadataTtl, () => this.discover(issuer));
  }

  /**
   * Run `verify` with the issuer's keys. When the token names a key we do not
   * have, the JWKS is fetched again (the provider may have rotated) and
   * `verify` retried once, unless the last fetch is younger than the floor.
   */
  async withKeys<T>(issuer: string, verify: (keys: KeyGetter) => Promise<T>): Promise<T> {
    const keys = await this.cached(this.jwks, issuer, this.jwksTtl, () => this.fetchJwks(issuer));
    try {
      return await verify(keys);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
      const last = this.jwks.get(issuer);
      if (last && this.clock() - last.fetchedAt < this.refetchFloor) throw error;
      this.jwks.delete(issuer);
      const fresh = await this.cached(this.jwks, issuer, this.jwksTtl, () => this.fetchJwks(issuer));
      return verify(fresh);
    }
  }

  private cached<T>(map: Map<string, Cached<T>>, key: string, ttl: number, load: () => Promise<T>): Promise<T> {
    const now = this.clock();
    const hit = map.get(key);
    if (hit && now - hit.fetchedAt < ttl) return hit.value;
    map.delete(key);
    if (map.size >= MAX_ISSUERS) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    const entry: Cached<T> = { value: load(), fetchedAt: now };
    map.set(key, entry);
    // Failures are not cached: the next request asks the provider again.
    entry.value.catch(() => {
      if (map.get(key) === entry) map.delete(key);
    });
    return entry.value;
  }

  private async discover(issuer: string): Promise<oauth.AuthorizationServer> {
    const issuerUrl = new URL(issuer);
    let response: Response;
    try {
      response = await oauth.discoveryRequest(issuerUrl, { algorithm: "oidc", ...this.requestOptions(issuer) });
    } catch (cause) {
      throw providerUnavailable("the partner's OpenID provider cannot be reached (discovery)", cause);
    }
    try {
      const server = await oauth.processDiscoveryResponse(issuerUrl, response);
      for (const field of ["authorization_endpoint", "token_endpoint", "jwks_uri"] as const) {
        if (typeof server[field] !== "string") throw new Error(`discovery metadata has no ${field}`);
      }
      return server;
    } catch (cause) {
      throw providerUnavailable(`the partner's OpenID provider answered discovery with unusable metadata (${describeCause(cause)})`, cause);
    }
  }

  private async fetchJwks(issuer: string): Promise<KeyGetter> {
    const server = await this.server(issuer);
    let response: Response;
    try {
      response = await this.fetch(server.jwks_uri as string, {
        method: "GET",
        headers: { accept: "application/json, application/jwk-set+json" },
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw providerUnavailable("the partner's OpenID provider cannot be reached (JWKS)", cause);
    }
    if (response.status !== 200) throw providerUnavailable(`the partner's OpenID provider answered its JWKS with HTTP ${response.status}`);
    let jwks: unknown;
    try {
      jwks = await response.json();
    } catch (cause) {
      throw providerUnavailable("the partner's OpenID provider answered its JWKS with something that is not JSON", cause);
    }
    try {
      return createLocalJWKSet(jwks as JSONWebKeySet);
    } catch (cause) {
      throw providerUnavailable("the partner's OpenID provider answered its JWKS with something that is not a JWK set", cause);
    }
  }
}

/** A short, value-free description of a library error for messages and logs. */
export function describeCause(cause: unknown): string {
  if (cause instanceof oauth.OperationProcessingError) return `${cause.code ?? "error"}: ${cause.message}`;
  if (cause instanceof Error) return cause.message;
  return "unknown error";
}
