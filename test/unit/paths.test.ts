import { describe, expect, it } from "vitest";
import { EmbedError } from "../../lambdas/core/errors.ts";
import { defaultPath, resolveInitialPath } from "../../lambdas/core/paths.ts";

const open = { allowedPaths: undefined };
const restricted = { allowedPaths: ["/dashboard", "/reports/"] };

function refused(path: unknown, partner: { allowedPaths?: string[] } = open) {
  try {
    resolveInitialPath(path, partner);
  } catch (error) {
    expect(error).toBeInstanceOf(EmbedError);
    return (error as EmbedError).code;
  }
  return "accepted";
}

describe("resolveInitialPath", () => {
  it.each([
    ["/", "/"],
    ["/dashboard", "/dashboard"],
    ["/reports?year=2026#top", "/reports?year=2026#top"],
    ["/a/./b/../c", "/a/c"],
    ["/caf%C3%A9", "/caf%C3%A9"],
  ])("accepts %s as %s", (input, output) => {
    expect(resolveInitialPath(input, open)).toBe(output);
  });

  it("defaults to / (or the first allowed prefix when / is not allowed)", () => {
    expect(resolveInitialPath(undefined, open)).toBe("/");
    expect(resolveInitialPath("", open)).toBe("/");
    expect(resolveInitialPath(undefined, restricted)).toBe("/dashboard");
    expect(defaultPath({ allowedPaths: ["/"] })).toBe("/");
  });

  it.each([
    ["a full URL", "https://evil.example/"],
    ["a scheme", "javascript:alert(1)"],
    ["protocol-relative", "//evil.example"],
    ["a backslash", "/\\evil.example"],
    ["an encoded backslash", "/%5Cevil.example"],
    ["a relative path", "dashboard"],
    ["a newline", "/dash\nboard"],
    ["an encoded newline", "/dash%0aboard"],
    ["an encoded NUL", "/dash%00board"],
    ["an encoded DEL", "/dash%7Fboard"],
    ["a tab", "/\t/evil.example"],
    ["a number", 42],
    ["an object", { path: "/" }],
    ["something huge", `/${"a".repeat(2048)}`],
  ])("refuses %s with PATH_NOT_ALLOWED", (_name, path) => {
    expect(refused(path)).toBe("PATH_NOT_ALLOWED");
  });

  it("enforces allowedPaths by whole segments, after resolving dot segments", () => {
    expect(resolveInitialPath("/dashboard", restricted)).toBe("/dashboard");
    expect(resolveInitialPath("/dashboard/cash", restricted)).toBe("/dashboard/cash");
    expect(resolveInitialPath("/reports", restricted)).toBe("/reports");
    expect(refused("/dashboards", restricted)).toBe("PATH_NOT_ALLOWED");
    expect(refused("/admin", restricted)).toBe("PATH_NOT_ALLOWED");
    expect(refused("/dashboard/../admin", restricted)).toBe("PATH_NOT_ALLOWED");
    expect(refused("/dashboard/%2e%2e/admin", restricted)).toBe("PATH_NOT_ALLOWED");
  });
});
