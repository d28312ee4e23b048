import { describe, expect, it } from "vitest";
import { DuplicateKeyError, parseJsonStrict } from "../../lambdas/core/strict-json.ts";

describe("parseJsonStrict", () => {
  it.each([
    ['{"a":1,"a":2}', "a"],
    ['{"a":{"b":1,"b":2}}', "b"],
    ['[{"x":1},{"y":1,"y":2}]', "y"],
    ['{"\\u0061":1,"a":2}', "a"],
  ])("rejects %s", (text, key) => {
    expect(() => parseJsonStrict(text)).toThrow(DuplicateKeyError);
    expect(() => parseJsonStrict(text)).toThrow(`"${key}"`);
  });

  it.each([
    ['{"a":1,"b":{"a":1}}'],
    ['{"a":"{\\"a\\":1,\\"a\\":2}"}'],
    ['[{"a":1},{"a":2}]'],
    ['{"a":["a","a"],"b":"a"}'],
    ['"plain"'],
  ])("accepts %s and returns what JSON.parse does", (text) => {
    expect(parseJsonStrict(text)).toEqual(JSON.parse(text));
  });

  it("still rejects invalid JSON", () => {
    expect(() => parseJsonStrict("{")).toThrow(SyntaxError);
  });
});
