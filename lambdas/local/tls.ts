/**
 * The local gateway's https certificate: self-signed, for `localhost` and
 * `127.0.0.1`, made once with the OS's `openssl` and kept in a cache
 * directory outside the tracked files (`.cache/tls/` by default). Nothing
 * here is a secret worth protecting — the key only ever guards loopback —
 * but it is still never committed and its file is 0600.
 */
import { execFileSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** `.cache/tls` at the repository root (`.cache/` is gitignored). */
export const DEFAULT_TLS_DIR = resolve(import.meta.dirname, "..", "..", ".cache", "tls");
/** The names the certificate is valid for, as openssl writes them into subjectAltName. */
export const CERTIFICATE_NAMES = ["DNS:localhost", "IP Address:127.0.0.1"] as const;
const SUBJECT_ALT_NAME = "subjectAltName=DNS:localhost,IP:127.0.0.1";
const VALID_DAYS = 365;
/** A certificate closer than this to its end is replaced, so a long test run never meets an expired one. */
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;
const FILE = "localhost.pem";

export interface LocalCertificate {
  /** PEM certificate; also what a Node client passes as `ca` to trust the gateway. */
  readonly cert: string;
  /** PEM private key (EC P-256). */
  readonly key: string;
  /** The file holding key and certificate together. */
  readonly file: string;
  /** SHA-256 fingerprint, e.g. for a log line. */
  readonly fingerprint256: string;
}

export interface CertificateOptions {
  /** Where the certificate is kept. @default DEFAULT_TLS_DIR */
  readonly dir?: string;
  /** The openssl binary. @default "openssl" (from PATH) */
  readonly openssl?: string;
  /** For tests. @default Date.now */
  readonly now?: () => number;
}

/**
 * The certificate in `dir`, made first if it is missing, unreadable, not for
 * localhost/127.0.0.1 or about to expire. Key and certificate live in one
 * file written by rename, so concurrent callers (test workers) never read a
 * half-written pair: the last writer wins and every reader gets a matching one.
 */
export function ensureLocalCertificate(options: CertificateOptions = {}): LocalCertificate {
  const dir = options.dir ?? DEFAULT_TLS_DIR;
  const now = options.now ?? Date.now;
  const file = join(dir, FILE);
  const existing = existsSync(file) ? readPair(file) : undefined;
  if (existing && forLocalhost(existing) && current(existing, now())) return existing;

  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(dir, "new-"));
  try {
    const keyFile = join(work, "key.pem");
    const certFile = join(work, "cert.pem");
    runOpenssl(options.openssl ?? "openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      String(VALID_DAYS),
      "-subj",
      "/CN=localhost",
      "-addext",
      SUBJECT_ALT_NAME,
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ]);
    const staged = join(work, FILE);
    writeFileSync(staged, `${readFileSync(keyFile, "utf8").trim()}\n${readFileSync(certFile, "utf8").trim()}\n`, { mode: 0o600 });
    chmodSync(staged, 0o600);
    renameSync(staged, file);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const made = readPair(file);
  if (!made || !forLocalhost(made)) throw new Error(`openssl wrote a certificate in ${file} that is not valid for localhost and 127.0.0.1`);
  return made;
}

function runOpenssl(binary: string, args: readonly string[]): void {
  try {
    execFileSync(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new Error(`openssl not found (${binary}): https for the local gateway needs it: apt-get install -y openssl`);
    }
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    throw new Error(`openssl could not make the local certificate: ${stderr.split("\n")[0] ?? "failed"}`);
  }
}

function readPair(file: string): LocalCertificate | undefined {
  const text = readFileSync(file, "utf8");
  // The file holds two PEM blocks; pick each by its label.
  const blocks = new Map([...text.matchAll(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g)].map((m) => [m[1], m[0]]));
  const key = blocks.get("PRIVATE KEY");
  const cert = blocks.get("CERTIFICATE");
  if (!key || !cert) return undefined;
  try {
    return { key: `${key}\n`, cert: `${cert}\n`, file, fingerprint256: new X509Certificate(cert).fingerprint256 };
  } catch {
    return undefined;
  }
}

/** Names both loopback hosts, and the key is the certificate's. */
function forLocalhost(pair: LocalCertificate): boolean {
  try {
    const x509 = new X509Certificate(pair.cert);
    const names = x509.subjectAltName ?? "";
    return CERTIFICATE_NAMES.every((name) => names.includes(name)) && x509.checkPrivateKey(createPrivateKey(pair.key));
  } catch {
    return false;
  }
}

function current(pair: LocalCertificate, now: number): boolean {
  const x509 = new X509Certificate(pair.cert);
  return Date.parse(x509.validFrom) <= now && Date.parse(x509.validTo) - RENEW_BEFORE_MS > now;
}
