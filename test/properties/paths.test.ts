/**
 * Path canonicalisation (src/verify/paths.ts) over raw strings built from the characters that path tricks
 * are made of. What it accepts is a fixed point, and no accepted path hides a dot segment at any depth of
 * decoding: an origin that decodes once more, or several times, still sees no "." or "..".
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalPath } from "../../src/verify/paths";

/** Raw path text from the pieces of traversal tricks: dots, escapes of dots, slashes and '%' in any case. */
const piece = fc.constantFrom(
  "a",
  "b",
  ".",
  "..",
  "/",
  "%2e",
  "%2E",
  "%2f",
  "%2F",
  "%5c",
  "%25",
  "%252e",
  "%25252e",
  "2e",
  "%",
  ";",
  ";x",
  "%3b",
  "%c0%ae",
  "%e2%80%a4",
  "\uff0e",
  "%u002e",
  "\\",
  "%00",
  "~",
  "-",
);
const rawPath = fc.array(piece, { maxLength: 12 }).map((pieces) => `/${pieces.join("")}`);

/** Decodes as often as it changes anything (an origin decoding twice or more sees at most this). */
function decodeFully(segment: string): string {
  let current = segment;
  for (let i = 0; i < 8; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return current;
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

describe("canonicalPath (properties over raw strings)", () => {
  it("is idempotent: re-encoding what it accepted and reading it again gives the same segments", () => {
    fc.assert(
      fc.property(rawPath, (path) => {
        const first = canonicalPath(path);
        if (first === null) return;
        const again = canonicalPath(`/${first.segments.map(encodeURIComponent).join("/")}`);
        expect(again).toEqual(first);
      }),
      { numRuns: 5000 },
    );
  });

  it("never accepts a path with a dot segment, an encoded slash or backslash, at any depth of decoding", () => {
    fc.assert(
      fc.property(rawPath, (path) => {
        const result = canonicalPath(path);
        if (result === null) return;
        for (const raw of path.slice(1).split("/")) {
          const decoded = decodeFully(raw);
          const bare = decoded.split(";", 1)[0];
          expect(bare).not.toBe(".");
          expect(bare).not.toBe("..");
          expect(decoded).not.toMatch(/[/\\\u0000]/);
        }
        for (const segment of result.segments) expect(segment).not.toMatch(/^\.\.?(?:;|$)/);
      }),
      { numRuns: 5000 },
    );
  });

  it("control: the generator does produce accepted paths and refused ones with encoded dots", () => {
    const samples = fc.sample(rawPath, { numRuns: 3000, seed: 7 });
    expect(samples.some((p) => canonicalPath(p) !== null && p.length > 3)).toBe(true);
    expect(samples.some((p) => /%2e%2e|%252e/i.test(p) && canonicalPath(p) === null)).toBe(true);
  });
});
