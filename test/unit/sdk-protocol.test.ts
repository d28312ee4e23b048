/** The pure parts of the postMessage protocol (sdk/src/protocol.ts). */
import { describe, expect, it } from "vitest";
import { frameName, isAppPath, PROTOCOL_VERSION, parentOriginOf, parseFrameName } from "../../sdk/src/protocol.ts";

describe("frame name", () => {
  it("round-trips the embed id, the parent origin and the sign-in mark", () => {
    const name = frameName({ id: "abc123", origin: "https://partner.example", auth: "first" });
    expect(name).toBe(`jupid=${PROTOCOL_VERSION}&id=abc123&origin=https%3A%2F%2Fpartner.example&auth=first`);
    expect(parseFrameName(name)).toEqual({ id: "abc123", origin: "https://partner.example", auth: "first" });
    expect(parseFrameName(frameName({ id: "x", origin: "" }))).toEqual({ id: "x", origin: "" });
  });

  it("ignores names the SDK did not write", () => {
    const v = PROTOCOL_VERSION;
    for (const name of ["", "x", `jupid=${v + 1}&id=a`, `jupid=${v - 1}&id=a`, `jupid=${v}`, `jupid=${v}&id=`, "id=a&origin=https://p.example"]) {
      expect(parseFrameName(name)).toBeUndefined();
    }
    expect(parseFrameName(`jupid=${v}&id=a&auth=admin`)).toEqual({ id: "a", origin: "" });
  });
});

describe("parent origin", () => {
  const allowed = ["https://partner.example", "http://localhost:3000"];
  it("prefers the browser's ancestor origin and accepts only allowed origins", () => {
    expect(parentOriginOf("https://partner.example", "https://evil.example", allowed)).toBe("https://partner.example");
    expect(parentOriginOf("https://evil.example", "https://partner.example", allowed)).toBeUndefined();
    expect(parentOriginOf(undefined, "http://localhost:3000", allowed)).toBe("http://localhost:3000");
    expect(parentOriginOf(undefined, "http://localhost:3000/", allowed)).toBeUndefined();
    expect(parentOriginOf(undefined, "null", allowed)).toBeUndefined();
    expect(parentOriginOf(undefined, undefined, allowed)).toBeUndefined();
  });
});

describe("app paths", () => {
  it("accepts same-origin absolute paths only", () => {
    for (const ok of ["/", "/dashboard", "/reports/2026?q=1#top", "/a%20b"]) expect(isAppPath(ok)).toBe(true);
    const dotSegments = ["/.//evil.example/x", "/..//evil.example/x", "/%2e//evil.example/x", "/%2E%2E//evil.example/x", "/a/..//evil.example/x"];
    for (const bad of ["", "dashboard", "//evil.example", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "/a\nb", "/a\u0000", `/${"a".repeat(2048)}`, 42, undefined, ...dotSegments]) {
      expect(isAppPath(bad)).toBe(false);
    }
  });
});
