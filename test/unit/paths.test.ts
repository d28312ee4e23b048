import { describe, expect, it } from "vitest";
import { EmbedError } from "../../lambdas/core/errors.ts";
import { defaultPath, resolveInitialPath, workspaceUrl } from "../../lambdas/core/paths.ts";

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

describe("paths are judged after normalisation (issue 12: open redirect through dot segments)", () => {
  it.each([
    "/.//evil.test/x",
    "/..//evil.test/x",
    "/%2e//evil.test/x",
    "/%2E//evil.test/x",
    "/%2e%2e//evil.test/x",
    "/%2E%2E//evil.test/x",
    "/a/..//evil.test/x",
    "/a/%2e%2e//evil.test/x",
    "/./%2e/..//evil.test",
    "/.%2f/evil.test",
    "/./\\evil.test",
    "/a/../\\evil.test",
    "/https://evil.test/",
  ])("%s never resolves to a path that leaves the app", (path) => {
    let resolved: string | undefined;
    try {
      resolved = resolveInitialPath(path, open);
    } catch (error) {
      expect(error).toBeInstanceOf(EmbedError);
      expect((error as EmbedError).code).toBe("PATH_NOT_ALLOWED");
      return;
    }
    // Accepted only as a harmless app path (e.g. "/https:/evil.test/" stays on the app).
    expect(resolved).toMatch(/^\/(?![/\\])/);
    expect(new URL(resolved, "https://app.example").origin).toBe("https://app.example");
  });

  it.each(["/.//evil.test/x", "/..//evil.test/x", "/%2e//evil.test/x", "/%2E%2E//evil.test/x", "/a/..//evil.test/x"])(
    "refuses %s with PATH_NOT_ALLOWED",
    (path) => {
      expect(refused(path)).toBe("PATH_NOT_ALLOWED");
    },
  );

  it("workspaceUrl never builds a Location that leaves the app origin, even with an empty base path", () => {
    expect(workspaceUrl("", "/dashboard")).toBe("/dashboard");
    expect(workspaceUrl("/app", "/dashboard")).toBe("/app/dashboard");
    for (const path of ["//evil.test/x", "/\\evil.test", "https://evil.test", "/\tx", "evil"]) {
      expect(() => workspaceUrl("", path)).toThrow(EmbedError);
    }
  });
});
