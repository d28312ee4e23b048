/**
 * https for the local gateway: the self-signed certificate (made once with
 * the OS's openssl, reused, replaced when unusable) and the gateway serving
 * it, as `startGateway({tls: true})` and `JUPID_TLS=1 npm start`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadEnvironmentConfig, partnersFile } from "../../config/schema.ts";
import { startGateway } from "../../lambdas/local/gateway.ts";
import { CERTIFICATE_NAMES, ensureLocalCertificate } from "../../lambdas/local/tls.ts";
import { mintToken } from "../fixtures/tokens.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "jupid-tls-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An https request trusting only `ca` (Node checks the name against the certificate). */
function get(url: string, ca: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolveRequest, reject) => {
    const req = request(url, { ca, method: init.method ?? "GET", headers: { ...(init.body ? { "content-type": "application/json" } : {}), ...init.headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolveRequest({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

describe("the local certificate", () => {
  const dir = tempDir();
  const first = ensureLocalCertificate({ dir });

  it("is for localhost and 127.0.0.1, EC P-256, with a matching key in a 0600 file", () => {
    const x509 = new X509Certificate(first.cert);
    for (const name of CERTIFICATE_NAMES) expect(x509.subjectAltName).toContain(name);
    expect(x509.checkHost("localhost")).toBe("localhost");
    expect(x509.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(Date.parse(x509.validTo) - Date.now()).toBeGreaterThan(300 * 24 * 3600 * 1000);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(first.file.startsWith(dir)).toBe(true);
  });

  it("is made once: a second call reuses the file", () => {
    const again = ensureLocalCertificate({ dir, openssl: "/nonexistent/openssl" });
    expect(again.fingerprint256).toBe(first.fingerprint256);
  });

  it("is replaced when the file is damaged or the certificate is about to expire", () => {
    const damaged = tempDir();
    writeFileSync(join(damaged, "localhost.pem"), "not a certificate");
    expect(ensureLocalCertificate({ dir: damaged }).cert).toContain("BEGIN CERTIFICATE");

    const expiring = tempDir();
    writeFileSync(join(expiring, "localhost.pem"), readFileSync(first.file));
    const in360Days = () => Date.now() + 360 * 24 * 3600 * 1000;
    expect(ensureLocalCertificate({ dir: expiring, now: in360Days }).fingerprint256).not.toBe(first.fingerprint256);
  });

  it("without openssl, fails saying how to install it", () => {
    expect(() => ensureLocalCertificate({ dir: tempDir(), openssl: "/nonexistent/openssl" })).toThrow(
      "openssl not found (/nonexistent/openssl): https for the local gateway needs it: apt-get install -y openssl",
    );
  });
});

describe("startGateway({tls: true})", () => {
  it("serves https on 127.0.0.1 with that certificate; the app URL and the top-level session cookie follow", async () => {
    const dir = tempDir();
    const { cert } = ensureLocalCertificate({ dir });
    const config = loadEnvironmentConfig(partnersFile("local"));
    const secret = "s".repeat(40);
    const gateway = await startGateway({ config, secrets: { "acme-books": secret }, port: 0, tls: dir });
    try {
      expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(gateway.ca).toBe(cert);
      expect(gateway.runtime.settings.appUrl).toBe(gateway.url);
      const health = await get(`${gateway.url}/healthz`, cert);
      expect(health.status).toBe(200);

      const now = Math.floor(Date.now() / 1000);
      const token = mintToken("acme-books", { secret, claims: { iat: now, exp: now + 300 } });
      // The top-level session cookie takes the https name (the frame's session needs no cookie).
      const session = await get(`${gateway.url}/partner/acme-books/enter?token=${token}`, cert, { headers: { referer: "http://localhost:3000/" } });
      expect(session.status).toBe(303);
      expect(String(session.headers["set-cookie"])).toMatch(/^__Host-jupid_session=[^;]+; .*Secure.*SameSite=Lax/);
    } finally {
      await gateway.close();
    }
  });

  it("stays plain http by default", async () => {
    const gateway = await startGateway({ config: loadEnvironmentConfig(partnersFile("local")), secrets: {}, port: 0 });
    await gateway.close();
    expect(gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(gateway.ca).toBeUndefined();
  });
});

describe("JUPID_TLS=1 npm start", () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill("SIGTERM");
  });

  it("prints an https gateway that answers, and an http demo site on localhost", async () => {
    const dir = tempDir();
    let output = "";
    child = spawn(join(ROOT, "node_modules", ".bin", "tsx"), ["lambdas/local/main.ts"], {
      cwd: ROOT,
      env: { ...process.env, JUPID_TLS: "1", JUPID_PORT: "0", PARTNER_PORT: "0", JUPID_LOCAL_SECRETS: join(dir, "secrets.json") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const append = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    const deadline = Date.now() + 20_000;
    let urls: RegExpExecArray | null = null;
    while (!urls && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
      urls = /Jupid local gateway\s+(\S+)\nDemo partner site\s+(\S+)/.exec(output);
    }
    if (!urls) throw new Error(`JUPID_TLS=1 npm start did not come up:\n${output}`);
    const [, gatewayUrl = "", partnerUrl = ""] = urls;
    expect(gatewayUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(partnerUrl).toMatch(/^http:\/\/localhost:\d+$/);
    // The default cache directory: the same certificate the test harness uses.
    const { cert } = ensureLocalCertificate();
    expect((await get(`${gatewayUrl}/healthz`, cert)).status).toBe(200);
    expect((await fetch(partnerUrl)).status).toBe(200);
  });
});
