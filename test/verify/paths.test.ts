/**
 * Canonical paths: anything two servers could read differently is refused, so the authorizer decides on
 * exactly the path the origin acts on.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalPath } from "../../src/verify/paths";
import { parseRoutePattern, routeMatches } from "../../src/http/route-policy";

describe("canonicalPath accepts", () => {
  it.each<[string, string[]]>([
    ["/", [""]],
    ["/a", ["a"]],
    ["/a/", ["a", ""]],
    ["/a/b", ["a", "b"]],
    ["/api/v1/public/", ["api", "v1", "public", ""]],
    ["/a/b%20c/", ["a", "b c", ""]],
    ["/%41%42c", ["ABc"]],
    ["/%61", ["a"]],
    ["/caf%C3%A9", ["café"]],
    ["/caf%c3%a9", ["café"]],
    ["/%E2%82%AC", ["€"]],
    ["/a/%25", ["a", "%"]],
    ["/a/%3F%23", ["a", "?#"]],
    ["/a/.b", ["a", ".b"]],
    ["/a/b.", ["a", "b."]],
    ["/a/...", ["a", "..."]],
    ["/a/%2e%2e%2e", ["a", "..."]],
    ["/a/.well-known", ["a", ".well-known"]],
    ["/a/b;c=d", ["a", "b;c=d"]],
    ["/a:b@c!$&'()*+,=~-_", ["a:b@c!$&'()*+,=~-_"]],
  ])("%j → %j", (path, segments) => {
    expect(canonicalPath(path)).toEqual({ segments });
  });

  it("accepts a 4096-character path and refuses one of 4097", () => {
    const longest = `/${"a".repeat(4095)}`;
    expect(canonicalPath(longest)?.segments).toEqual(["a".repeat(4095)]);
    expect(canonicalPath(`${longest}a`)).toBeNull();
  });
});

describe("canonicalPath refuses", () => {
  it.each([
    // Shape.
    ["the empty string", ""],
    ["a relative path", "a/b"],
    ["a full URL", "https://example.com/a"],
    // Empty segments.
    ["'//'", "//"],
    ["a leading '//'", "//a"],
    ["'//' in the middle", "/a//b"],
    ["'//' at the end", "/a//"],
    // A second layer of encoding: an origin that decodes twice would see "..".
    ["double-encoded dots", "/api/v1/public/%252e%252e/private"],
    ["a double-encoded slash", "/a%252fb"],
    ["a double-encoded space", "/a/%2520"],
    // C1 control characters.
    ["U+0085 (NEL)", "/a%C2%85b"],
    ["U+009B (CSI)", "/a%C2%9Bb"],
    // Encoded and raw slashes and backslashes.
    ["%2f", "/a%2fb"],
    ["%2F", "/a%2Fb"],
    ["a segment that is only %2f", "/a/%2f/b"],
    ["%5c", "/a%5cb"],
    ["%5C", "/a%5Cb"],
    ["a raw backslash", "/a\\b"],
    ["a raw leading backslash", "\\a"],
    // NUL and control characters, raw and encoded.
    ["%00", "/a%00b"],
    ["a raw NUL", "/a\u0000b"],
    ["a raw \\x01", "/a\u0001b"],
    ["a raw tab", "/a\tb"],
    ["a raw newline", "/a\nb"],
    ["a raw carriage return", "/a\rb"],
    ["a raw \\x1f", "/a\u001fb"],
    ["a raw DEL", "/a\u007fb"],
    ["%09", "/a%09b"],
    ["%0a", "/a%0ab"],
    ["%0D", "/a%0Db"],
    ["%1F", "/a%1Fb"],
    ["%7f", "/a%7fb"],
    // Dot segments in any spelling.
    ["'.'", "/a/./b"],
    ["'..'", "/a/../b"],
    ["a final '.'", "/a/."],
    ["a final '..'", "/a/.."],
    ["'/.'", "/."],
    ["'/..'", "/.."],
    ["'./' at the end", "/a/./"],
    ["%2e", "/a/%2e/b"],
    ["%2E", "/a/%2E/b"],
    ["%2e%2e", "/a/%2e%2e/b"],
    ["%2E%2E", "/a/%2E%2E/b"],
    ["%2E%2e", "/a/%2E%2e/b"],
    ["%2e%2E", "/a/%2e%2E/b"],
    [".%2e", "/a/.%2e/b"],
    ["%2e.", "/a/%2e./b"],
    [".%2E", "/a/.%2E/b"],
    ["a final %2e%2e", "/a/%2e%2e"],
    ["%2e%2e as the first segment", "/%2e%2e/b"],
    // Broken percent-escapes.
    ["%zz", "/a/%zz"],
    ["a lone %", "/a/%"],
    ["a truncated escape", "/a/%2"],
    ["%g0", "/a/%g0"],
    ["an IIS-style %u escape", "/a/%u002e"],
    ["invalid UTF-8 (a lone lead byte)", "/a/%c3"],
    ["invalid UTF-8 (%ff)", "/a/%ff"],
    ["an overlong UTF-8 '.' (%c0%ae)", "/a/%c0%ae"],
    ["an overlong UTF-8 '/' (%c0%af)", "/a/%c0%af"],
    ["an encoded lone surrogate", "/a/%ed%a0%80"],
    // Query and fragment characters in the path itself.
    ["'?'", "/a?b"],
    ["'#'", "/a#b"],
    ["a trailing '?'", "/a?"],
  ])("%s: %j", (_label, path) => {
    expect(canonicalPath(path)).toBeNull();
  });
});

/** The segments canonicalPath must return for a path of these segments, or null when it must refuse. */
function expectedFor(segments: readonly string[]): string[] | null {
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === "" && i !== segments.length - 1) return null;
    const bare = s.split(";", 1)[0];
    if (bare === "." || bare === ".." || /[\u0000-\u001f\u007f-\u009f/\\]|%[0-9A-Fa-f]{2}/.test(s)) return null;
  }
  return [...segments];
}

/** Every UTF-8 byte of the text as a percent-escape, each hex digit in a random case. */
function percentEncodeAll(text: string, upper: (i: number) => boolean): string {
  let out = "";
  let i = 0;
  for (const byte of new TextEncoder().encode(text)) {
    const hex = byte.toString(16).padStart(2, "0");
    out += `%${upper(i++) ? hex[0]!.toUpperCase() : hex[0]}${upper(i++) ? hex[1]!.toUpperCase() : hex[1]}`;
  }
  return out;
}

describe("canonicalPath (properties)", () => {
  const segmentArb = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(".", "..", "...", "", "/", "\\", "\u0000", "\u007f", "a\tb", "%", "?", "#", ";"),
    },
  );

  it("decodes encodeURIComponent-written segments back, or refuses exactly the forbidden ones", () => {
    fc.assert(
      fc.property(fc.array(segmentArb, { minLength: 1, maxLength: 5 }), (segments) => {
        const path = `/${segments.map(encodeURIComponent).join("/")}`;
        const expected = expectedFor(segments);
        expect(canonicalPath(path)).toEqual(expected === null ? null : { segments: expected });
      }),
      { numRuns: 2000 },
    );
  });

  it("reads a fully percent-encoded path (any hex case) exactly like the plain one", () => {
    fc.assert(
      fc.property(fc.array(segmentArb, { minLength: 1, maxLength: 5 }), fc.func(fc.boolean()), (segments, upper) => {
        const path = `/${segments.map((s) => percentEncodeAll(s, upper)).join("/")}`;
        const expected = expectedFor(segments);
        expect(canonicalPath(path)).toEqual(expected === null ? null : { segments: expected });
      }),
      { numRuns: 2000 },
    );
  });
});

/*
 * A key limited to "GET /api/v1/public/*" must not reach /api/v1/private by any spelling. Each spelling is
 * either refused by canonicalPath or, if accepted, its canonical segments must not fall under the pattern.
 * The rows mix spellings workerd's URL parser would already resolve with ones it passes through unchanged
 * (RPC callers pass path strings directly, so both must hold here).
 */
describe('no spelling of /api/v1/private reaches a key limited to "GET /api/v1/public/*"', () => {
  const publicOnly = parseRoutePattern("GET /api/v1/public/*")!;

  it("control: the pattern does allow the public tree", () => {
    expect(routeMatches(publicOnly, "GET", canonicalPath("/api/v1/public/a")!.segments)).toBe(true);
    expect(routeMatches(publicOnly, "GET", canonicalPath("/api/v1/public")!.segments)).toBe(true);
  });

  it.each([
    "/api/v1/private",
    "/api/v1/privat%65",
    "/api/v1/%70rivate",
    "/api/v1/public/../private",
    "/api/v1/public/./../private",
    "/api/v1/public/x/../../private",
    "/api/v1/public/%2e%2e/private",
    "/api/v1/public/%2E%2E/private",
    "/api/v1/public/%2E%2e/private",
    "/api/v1/public/.%2e/private",
    "/api/v1/public/%2e./private",
    "/api/v1/public/%2e/../private",
    "/api/v1/public/..%2fprivate",
    "/api/v1/public/..%2Fprivate",
    "/api/v1/public%2f..%2fprivate",
    "/api/v1/public/%2e%2e%2fprivate",
    "/api/v1/public/%2e%2e%2Fprivate",
    "/api/v1/public/..%5cprivate",
    "/api/v1/public/..%5Cprivate",
    "/api/v1/public/%2e%2e%5cprivate",
    "/api/v1/public\\..\\private",
    "/api/v1/public/..\\private",
    "/api/v1/public//../private",
    "/api/v1/public/%00/../private",
    "/api/v1/public/..%00/private",
    "/api/v1/public/..%09/private",
    "/api/v1/public/%c0%ae%c0%ae/private",
    "/api/v1/public/..%c0%afprivate",
    "/api/v1/public/%u002e%u002e/private",
    "/api/v1/public/?/../private",
    "/api/v1/public/#/../private",
    // Servlet containers (Tomcat, Jetty, Spring) strip ";parameters" from each segment before resolving
    // dot segments, so an origin behind them reads "..;" as "..": another spelling two servers read differently.
    "/api/v1/public/..;/private",
    "/api/v1/public/..;jsessionid=x/private",
    "/api/v1/public/%2e%2e;/private",
    "/api/v1/public/..%3b/private",
    "/api/v1/public/.;/..;/private",
  ])("%s", (spelling) => {
    const canonical = canonicalPath(spelling);
    const reachesPublicRule = canonical !== null && routeMatches(publicOnly, "GET", canonical.segments);
    expect(reachesPublicRule, `accepted as ${JSON.stringify(canonical?.segments)}`).toBe(false);
  });
});
