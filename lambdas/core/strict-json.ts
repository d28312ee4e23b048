/**
 * JSON.parse that also rejects duplicate object keys.
 *
 * JSON.parse keeps the last of two equal keys, so `{"sub":"a","sub":"b"}`
 * would mean different things to the partner's library, to a logging proxy
 * and to us. RFC 7515 lets a JWS consumer reject such input; we always do.
 * The scanner only tracks object keys; values are left to JSON.parse, which
 * runs first and guarantees the text is well-formed.
 */
export class DuplicateKeyError extends Error {
  override readonly name = "DuplicateKeyError";
  constructor(readonly key: string) {
    super(`duplicate JSON key "${key}"`);
  }
}

export function parseJsonStrict(text: string): unknown {
  const value: unknown = JSON.parse(text);
  assertNoDuplicateKeys(text);
  return value;
}

function assertNoDuplicateKeys(text: string): void {
  // One set of keys per open object; arrays push `undefined` so nesting lines up.
  const stack: Array<Set<string> | undefined> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      const end = endOfString(text, i);
      const frame = stack[stack.length - 1];
      if (frame && expectKey) {
        // Only a key with an escape needs decoding; the plain ones (nearly all) are their own text.
        const raw = text.slice(i + 1, end);
        const key = raw.includes("\\") ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (frame.has(key)) throw new DuplicateKeyError(key);
        frame.add(key);
        expectKey = false;
      }
      i = end;
    } else if (ch === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === "[") {
      stack.push(undefined);
    } else if (ch === "}" || ch === "]") {
      stack.pop();
    } else if (ch === ",") {
      expectKey = stack[stack.length - 1] !== undefined;
    }
  }
}

function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\\") i++;
    else if (ch === '"') return i;
  }
  return text.length - 1;
}
