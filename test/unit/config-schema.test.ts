import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  ENVIRONMENTS,
  loadEnvironmentConfig,
  parseEnvironmentConfig,
  partnersFile,
} from "../../config/schema.ts";
import { partnerInput } from "../fixtures/partners.ts";

function env(partners: unknown[], overrides: Record<string, unknown> = {}) {
  return { environment: "staging", appUrl: "https://staging.app.jupid.com", partners, ...overrides };
}

function errorOf(value: unknown): string {
  try {
    parseEnvironmentConfig(value, "partners.test.json");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected the config to be rejected");
}

describe("the committed partner files", () => {
  it.each(ENVIRONMENTS)("config/partners.%s.json is valid", (name) => {
    const config = loadEnvironmentConfig(partnersFile(name));
    expect(config.environment).toBe(name);
    expect(config.partners.length).toBeGreaterThan(0);
  });

  it("production serves from https://app.jupid.com", () => {
    expect(loadEnvironmentConfig(partnersFile("production")).appUrl).toBe("https://app.jupid.com");
  });

  it("no committed file holds anything that looks like a secret", () => {
    for (const name of ENVIRONMENTS) {
      const text = JSON.stringify(loadEnvironmentConfig(partnersFile(name)));
      expect(text).not.toMatch(/secret|password|"key"/i);
    }
  });
});

describe("defaults", () => {
  it("fills firstRunPath, token lifetime, enabled and overrides", () => {
    const config = parseEnvironmentConfig(env([partnerInput("acme")]), "x");
    expect(config.partners[0]).toMatchObject({
      firstRunPath: "/onboarding/connect-accounts",
      maxTokenLifetimeSeconds: 300,
      enabled: true,
    });
    expect(config.sessionLifetimeSeconds).toBe(8 * 3600);
  });
});

describe("errors name the file, the partner and the field", () => {
  it.each([
    ["a bad id", { id: "Acme!" }, 'partner "Acme!" field id'],
    ["a wildcard origin", { allowedOrigins: ["https://*.acme.example"] }, "allowedOrigins.0"],
    ["the null origin", { allowedOrigins: ["null"] }, "never \"null\""],
    ["an origin with a path", { allowedOrigins: ["https://acme.example/app"] }, "no path"],
    ["an origin with a trailing slash", { allowedOrigins: ["https://acme.example/"] }, "did you mean \"https://acme.example\""],
    ["a non-http origin", { allowedOrigins: ["ftp://acme.example"] }, "http or https"],
    ["no origins", { allowedOrigins: [] }, "allowedOrigins"],
    ["a token lifetime over 900 s", { maxTokenLifetimeSeconds: 901 }, "maxTokenLifetimeSeconds"],
    ["a relative firstRunPath", { firstRunPath: "onboarding" }, "firstRunPath"],
    ["a protocol-relative allowed path", { allowedPaths: ["//evil"] }, "allowedPaths"],
    ["a bad colour", { branding: { displayName: "A", primaryColor: "red" } }, "branding.primaryColor"],
    ["an unknown shell mode", { shell: { mode: "huge", chat: true } }, "shell.mode"],
    ["an unknown field (typo)", { allowedOrigin: ["https://a.example"] }, "allowedOrigin"],
  ])("%s", (_name, override, fragment) => {
    const message = errorOf(env([{ ...partnerInput("acme"), ...override }]));
    expect(message).toContain("partners.test.json");
    expect(message).toContain(fragment);
  });

  it("rejects duplicate partner ids", () => {
    expect(errorOf(env([partnerInput("acme"), partnerInput("acme")]))).toContain('duplicate partner id "acme"');
  });

  it("production refuses http and loopback origins, and an http appUrl", () => {
    const prod = (origins: string[], appUrl = "https://app.jupid.com") =>
      errorOf(env([partnerInput("acme", { allowedOrigins: origins })], { environment: "production", appUrl }));
    expect(prod(["http://acme.example"])).toContain("not allowed in production");
    expect(prod(["https://localhost:3000"])).toContain("not allowed in production");
    expect(prod(["https://127.0.0.1"])).toContain("not allowed in production");
    expect(prod(["https://acme.example"], "http://app.jupid.com")).toContain("production appUrl must be https");
  });

  it("staging accepts a localhost origin for partner development", () => {
    const config = parseEnvironmentConfig(env([partnerInput("acme", { allowedOrigins: ["http://localhost:3000"] })]), "x");
    expect(config.partners[0]?.allowedOrigins).toEqual(["http://localhost:3000"]);
  });

  it("a missing or broken file says which file", () => {
    const dir = mkdtempSync(join(tmpdir(), "jupid-config-"));
    expect(() => loadEnvironmentConfig(join(dir, "missing.json"))).toThrow(/missing\.json: cannot read/);
    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{ nope");
    expect(() => loadEnvironmentConfig(broken)).toThrow(/broken\.json: not valid JSON/);
  });
});
