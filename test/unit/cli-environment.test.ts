/**
 * Where the CLI looks for things: the Secrets Manager names the CDK stack
 * creates, the local gateway's secrets file, secret files, generated secrets,
 * and AWS failures turned into actionable errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ENVIRONMENTS } from "../../config/schema.ts";
import { partnerSecretPrefix } from "../../lib/constructs/partner-secrets.ts";
import { bufferedIo } from "../../lib/operator/buffered-io.ts";
import { localSecretsFile, REPO_ROOT, readSecretFile, secretPrefix } from "../../lib/operator/environment.ts";
import { CliError } from "../../lib/operator/io.ts";
import { awsFailure, generatePartnerSecret } from "../../lib/operator/partner-secrets-admin.ts";

const dir = mkdtempSync(join(tmpdir(), "jupid-cli-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("secret names", () => {
  it.each(ENVIRONMENTS)("%s: the default prefix is the one the CDK stack gives JUPID_SECRET_PREFIX", (env) => {
    expect(secretPrefix(env, bufferedIo())).toBe(partnerSecretPrefix(env));
  });

  it("JUPID_SECRET_PREFIX and --secret-prefix override it, the flag first", () => {
    const io = bufferedIo({ env: { JUPID_SECRET_PREFIX: "from-env/" } });
    expect(secretPrefix("staging", io)).toBe("from-env/");
    expect(secretPrefix("staging", io, "from-flag/")).toBe("from-flag/");
  });
});

describe("local secrets file", () => {
  it("defaults to .local/secrets.<env>.json in the repo, like npm start", () => {
    expect(localSecretsFile("local", bufferedIo())).toBe(join(REPO_ROOT, ".local", "secrets.local.json"));
  });

  it("JUPID_LOCAL_SECRETS overrides it, relative to the working directory", () => {
    expect(localSecretsFile("local", bufferedIo({ env: { JUPID_LOCAL_SECRETS: "s.json" }, cwd: "/tmp/x" }))).toBe("/tmp/x/s.json");
  });
});

describe("--secret-file", () => {
  const io = bufferedIo({ cwd: dir });
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return name;
  };

  it("reads a plain secret byte-exact, dropping only one trailing newline", () => {
    expect(readSecretFile(file("lf", " spaced secret \n"), "acme", io)).toBe(" spaced secret ");
    expect(readSecretFile(file("crlf", "abc\r\n"), "acme", io)).toBe("abc");
    expect(readSecretFile(file("two", "abc\n\n"), "acme", io)).toBe("abc\n");
  });

  it("reads the partner's entry from a local-secrets-style JSON file", () => {
    expect(readSecretFile(file("secrets.json", '{"acme":"json-secret","other":"x"}'), "acme", io)).toBe("json-secret");
    expect(() => readSecretFile("secrets.json", "missing", io)).toThrow(/has no secret for partner "missing"/);
  });

  it("refuses empty and unreadable files", () => {
    expect(() => readSecretFile(file("empty", "\n"), "acme", io)).toThrow(/is empty/);
    expect(() => readSecretFile("nope", "acme", io)).toThrow(/cannot read .*nope: ENOENT/);
  });
});

describe("generatePartnerSecret", () => {
  it("makes 64 alphanumeric characters, like the CDK-generated secrets, never twice the same", () => {
    const secrets = Array.from({ length: 200 }, () => generatePartnerSecret());
    for (const secret of secrets) expect(secret).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(new Set(secrets).size).toBe(200);
    // 12,800 characters: every one of the 62 letters and digits shows up.
    expect(new Set(secrets.join("")).size).toBe(62);
  });
});

describe("awsFailure", () => {
  const named = (name: string, message = "m") => Object.assign(new Error(message), { name });

  it.each([
    [named("ResourceNotFoundException"), "SECRET_NOT_FOUND", /does not exist/],
    [new Error("secret x (AWSCURRENT): ResourceNotFoundException", { cause: named("ResourceNotFoundException") }), "SECRET_NOT_FOUND", /does not exist/],
    [new Error("Region is missing"), "AWS_REGION_MISSING", /no AWS region/],
    [named("CredentialsProviderError", "Could not load credentials from any providers"), "AWS_CREDENTIALS", /no usable AWS credentials/],
    [named("AccessDeniedException", "not authorized"), "AWS_ACCESS_DENIED", /AccessDeniedException/],
    [named("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion."), "SECRET_RETIRED", /scheduled for deletion/],
    [named("ThrottlingException", "slow down"), "AWS_ERROR", /ThrottlingException: slow down/],
  ])("%s -> %s", (error, code, message) => {
    const failure = awsFailure(error, "reading s");
    expect(failure).toBeInstanceOf(CliError);
    expect(failure.code).toBe(code);
    expect(failure.message).toMatch(message);
    expect(failure.exitCode).toBe(1);
  });
});
