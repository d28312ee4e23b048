/**
 * The frame session, kept by the frame itself (docs/adr/0004-frame-sessions.md):
 * - the DPoP key: a non-extractable ECDSA P-256 key pair, in IndexedDB under the
 *   embed id (structured clone keeps it non-extractable; script can sign with it,
 *   never read it);
 * - the credential: in memory and in sessionStorage under the embed id, so it
 *   survives the frame's own navigations but not a new mount (which gets a new id).
 * Both stores are partitioned by the top-level site in every engine, so a
 * session never leaves the partner site it was made for, and no third-party
 * cookie is involved. Nothing here is ever posted to the parent window.
 */
import { DPOP_SCHEME } from "../protocol.ts";

/** What the frame stores per embed id. */
export interface StoredSession {
  readonly credential: string;
  readonly partnerId: string;
  /** The first view, straight from the sign-in answer: the first workspace page needs no extra request. */
  readonly view?: unknown;
}

const DB = "jupid-embed";
const STORE = "dpop-keys";
const STORAGE_PREFIX = "jupid.session.";
/** Keys of mounts older than this are removed (a session lives at most 7 days). */
const KEY_MAX_AGE_MS = 8 * 24 * 3600 * 1000;

const memory = new Map<string, StoredSession>();

/** Keep the session for this embed's later pages; throws when the frame has no sessionStorage. */
export function saveSession(embedId: string, session: StoredSession): void {
  memory.set(embedId, session);
  sessionStorage.setItem(STORAGE_PREFIX + embedId, JSON.stringify(session));
}

export function loadSession(embedId: string): StoredSession | undefined {
  const held = memory.get(embedId);
  if (held) return held;
  try {
    const value = JSON.parse(sessionStorage.getItem(STORAGE_PREFIX + embedId) ?? "null") as StoredSession | null;
    if (value && typeof value.credential === "string") memory.set(embedId, value);
    return value ?? undefined;
  } catch {
    return undefined;
  }
}

/** Forget the session and its key (sign-out, session ended). */
export function clearSession(embedId: string): void {
  memory.delete(embedId);
  try {
    sessionStorage.removeItem(STORAGE_PREFIX + embedId);
  } catch {
    // Storage unavailable: nothing was stored.
  }
  void idb("readwrite", (store) => store.delete(embedId)).catch(() => undefined);
}

interface StoredKey {
  readonly keys: CryptoKeyPair;
  readonly createdAt: number;
}

function idb<T>(mode: IDBTransactionMode, use: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const request = use(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
      request.transaction?.addEventListener("complete", () => db.close());
    };
  });
}

/**
 * A new key pair for this embed; the private key can sign and can never be exported.
 * `stored` settles when it is in IndexedDB: the sign-in request need not wait for that,
 * only leaving the bootstrap page does.
 */
export async function createFrameKey(embedId: string): Promise<{ keys: CryptoKeyPair; stored: Promise<unknown> }> {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const stored = idb("readwrite", (store) => store.put({ keys, createdAt: Date.now() } satisfies StoredKey, embedId));
  stored.then(() => pruneKeys()).catch(() => undefined);
  return { keys, stored };
}

/** The key pair this embed signed in with, if the frame still has it. */
export async function loadFrameKey(embedId: string): Promise<CryptoKeyPair | undefined> {
  const stored = (await idb("readonly", (store) => store.get(embedId))) as StoredKey | undefined;
  return stored?.keys;
}

/** Remove keys of long-gone mounts. */
async function pruneKeys(): Promise<void> {
  const all = (await idb("readonly", (store) => store.getAll())) as StoredKey[];
  const ids = (await idb("readonly", (store) => store.getAllKeys())) as string[];
  const cutoff = Date.now() - KEY_MAX_AGE_MS;
  await Promise.all(ids.filter((_, i) => (all[i]?.createdAt ?? 0) < cutoff).map((id) => idb("readwrite", (store) => store.delete(id))));
}

const encoder = new TextEncoder();
const base64url = (bytes: ArrayBuffer | Uint8Array): string =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const encodeJson = (value: unknown) => base64url(encoder.encode(JSON.stringify(value)));
const publicJwks = new WeakMap<CryptoKey, JsonWebKey>();

/**
 * A DPoP proof (RFC 9449) for one request: `typ dpop+jwt`, ES256, the public key
 * in the header; `jti`, `htm`, `htu` (no query or fragment), `iat` by the server's
 * clock, and `ath` when a credential goes with it.
 */
export async function signProof(keys: CryptoKeyPair, method: string, url: string, clockOffset: number, credential?: string): Promise<string> {
  let jwk = publicJwks.get(keys.publicKey);
  if (!jwk) {
    const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", keys.publicKey);
    jwk = { kty, crv, x, y };
    publicJwks.set(keys.publicKey, jwk);
  }
  const target = new URL(url, location.href);
  const payload: Record<string, unknown> = {
    jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
    htm: method,
    htu: target.origin + target.pathname,
    iat: Math.floor(Date.now() / 1000 + clockOffset),
  };
  if (credential) payload.ath = base64url(await crypto.subtle.digest("SHA-256", encoder.encode(credential)));
  const input = `${encodeJson({ typ: "dpop+jwt", alg: "ES256", jwk })}.${encodeJson(payload)}`;
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, encoder.encode(input));
  return `${input}.${base64url(signature)}`;
}

/** Headers that authenticate one request with the frame session. */
export async function sessionHeaders(
  session: StoredSession,
  keys: CryptoKeyPair,
  method: string,
  url: string,
  clockOffset: number,
): Promise<Record<string, string>> {
  return {
    Authorization: `${DPOP_SCHEME} ${session.credential}`,
    DPoP: await signProof(keys, method, url, clockOffset, session.credential),
  };
}
