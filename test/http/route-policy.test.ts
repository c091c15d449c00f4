/**
 * Route patterns ("<METHOD> <path>", optional final "/*"), route matching on canonical segments, the route
 * policy and the scopes a request needs.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_ROUTE_POLICY,
  SUPPORTED_METHODS,
  parseRoutePattern,
  parseRoutePolicy,
  matchingRule,
  routeMatches,
  type PolicyRule,
  type RoutePattern,
} from "../../src/http/route-policy";

function pattern(text: string): RoutePattern {
  const parsed = parseRoutePattern(text);
  if (!parsed) throw new Error(`test pattern does not parse: ${text}`);
  return parsed;
}

function policy(rules: unknown): PolicyRule[] {
  const parsed = parseRoutePolicy(rules);
  if (!parsed) throw new Error(`test policy does not parse: ${JSON.stringify(rules)}`);
  return parsed.rules;
}

/** Segments of a plain path, as canonicalPath returns them ("/" → [""], "/a/" → ["a", ""]). */
const seg = (path: string) => path.slice(1).split("/");

const scopesOf = (...args: Parameters<typeof matchingRule>) => matchingRule(...args)?.scopes ?? null;

describe("parseRoutePattern", () => {
  it.each<[string, RoutePattern]>([
    ["GET /api/v1/public/*", { method: "GET", segments: ["api", "v1", "public"], wildcard: true }],
    ["* /api/v1/reports/*", { method: "*", segments: ["api", "v1", "reports"], wildcard: true }],
    ["POST /api/v1/items", { method: "POST", segments: ["api", "v1", "items"], wildcard: false }],
    ["DELETE /api/v1/items/", { method: "DELETE", segments: ["api", "v1", "items", ""], wildcard: false }],
    ["GET /", { method: "GET", segments: [""], wildcard: false }],
    ["GET /*", { method: "GET", segments: [], wildcard: true }],
    ["* /*", { method: "*", segments: [], wildcard: true }],
    [
      "GET /a.b/~c/d-e_f/@x:y/$&'()+,;=!",
      { method: "GET", segments: ["a.b", "~c", "d-e_f", "@x:y", "$&'()+,;=!"], wildcard: false },
    ],
    ["GET /.well-known/*", { method: "GET", segments: [".well-known"], wildcard: true }],
    ["GET /a/...", { method: "GET", segments: ["a", "..."], wildcard: false }],
  ])("%j", (text, expected) => {
    expect(parseRoutePattern(text)).toEqual(expected);
  });

  it.each(SUPPORTED_METHODS)("accepts the method %s", (method) => {
    expect(parseRoutePattern(`${method} /x`)?.method).toBe(method);
  });

  it.each([
    ["the empty string", ""],
    ["a method alone", "GET"],
    ["a method and a space", "GET "],
    ["a path alone", "/api"],
    ["a lower-case method", "get /api"],
    ["a mixed-case method", "Get /api"],
    ["CONNECT", "CONNECT /api"],
    ["TRACE", "TRACE /api"],
    ["an unknown method", "FETCH /api"],
    ["two methods", "GET,POST /api"],
    ["a method list with a space", "GET POST /api"],
    ["'**' as method", "** /api"],
    ["two spaces", "GET  /api"],
    ["a tab", "GET\t/api"],
    ["a leading space", " GET /api"],
    ["a trailing space", "GET /api "],
    ["a trailing newline", "GET /api\n"],
    ["a relative path", "GET api"],
    ["a full URL", "GET https://example.com/api"],
    ["'*' in the middle", "GET /api/*/x"],
    ["'*' first and then more", "GET /*/x"],
    ["'*' glued to a segment", "GET /api*"],
    ["'*' at the end of a segment", "GET /api/x*"],
    ["'**'", "GET /api/**"],
    ["a trailing '*' after a slash-less segment", "GET /api/v1/public*"],
    ["a '..' segment", "GET /api/../x"],
    ["a '.' segment", "GET /api/./x"],
    ["a final '..'", "GET /.."],
    ["a final '.'", "GET /."],
    ["'..' before the wildcard", "GET /api/../*"],
    ["an empty middle segment", "GET /api//x"],
    ["an empty first segment", "GET //api"],
    ["'//'", "GET //"],
    ["an empty segment before the wildcard", "GET /api//*"],
    ["'//*'", "GET //*"],
    ["a percent escape", "GET /api/%2e%2e"],
    ["a query", "GET /api?x=1"],
    ["a fragment", "GET /api#x"],
    ["a backslash", "GET /api\\x"],
    ["a space in the path", "GET /a b"],
    ["a non-ASCII segment", "GET /caf\u00e9"],
  ])("refuses %s: %j", (_label, text) => {
    expect(parseRoutePattern(text)).toBeNull();
  });
});

describe("routeMatches", () => {
  describe('"GET /api/v1/public/*"', () => {
    const p = pattern("GET /api/v1/public/*");

    it.each(["/api/v1/public", "/api/v1/public/", "/api/v1/public/a", "/api/v1/public/a/b", "/api/v1/public/a/b/"])(
      "matches GET %s",
      (path) => {
        expect(routeMatches(p, "GET", seg(path))).toBe(true);
      },
    );

    it.each([
      "/api/v1/publicity",
      "/api/v1/publi",
      "/api/v1/private",
      "/api/v1/private/a",
      "/api/v1",
      "/api/v1/",
      "/api",
      "/",
      "/api/v1/Public",
      "/API/v1/public",
      "/api/v2/public",
      "/x/api/v1/public",
      "/api/v1/public.json",
    ])("does not match GET %s", (path) => {
      expect(routeMatches(p, "GET", seg(path))).toBe(false);
    });

    it.each(["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get", "Get", ""])("does not match method %j", (method) => {
      expect(routeMatches(p, method, seg("/api/v1/public/a"))).toBe(false);
    });

    it("covers HEAD, which is GET without a body (RFC 9110 §9.3.2), on the same paths only", () => {
      expect(routeMatches(p, "HEAD", seg("/api/v1/public/a"))).toBe(true);
      expect(routeMatches(p, "HEAD", seg("/api/v1/public"))).toBe(true);
      expect(routeMatches(p, "HEAD", seg("/api/v1/publicity"))).toBe(false);
    });

    it("a HEAD pattern covers HEAD only, not GET", () => {
      const head = pattern("HEAD /api/v1/public/*");
      expect(routeMatches(head, "HEAD", seg("/api/v1/public/a"))).toBe(true);
      expect(routeMatches(head, "GET", seg("/api/v1/public/a"))).toBe(false);
    });
  });

  it.each(SUPPORTED_METHODS)('"* /api/*" matches %s, and not outside /api', (method) => {
    const p = pattern("* /api/*");
    expect(routeMatches(p, method, seg("/api/x"))).toBe(true);
    expect(routeMatches(p, method, seg("/apix"))).toBe(false);
    expect(routeMatches(p, method, seg("/other/api"))).toBe(false);
  });

  it.each<[string, string, boolean]>([
    ["/api/v1/items", "POST", true],
    ["/api/v1/items/", "POST", false],
    ["/api/v1/items/1", "POST", false],
    ["/api/v1", "POST", false],
    ["/api/v1/items", "PUT", false],
  ])('"POST /api/v1/items" (no wildcard): %s %s → %s', (path, method, expected) => {
    expect(routeMatches(pattern("POST /api/v1/items"), method, seg(path))).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    ["GET /", "/", true],
    ["GET /", "/a", false],
    ["GET /*", "/", true],
    ["GET /*", "/a", true],
    ["GET /*", "/a/b/", true],
    ["GET /api/", "/api/", true],
    ["GET /api/", "/api", false],
    ["GET /api/", "/api/x", false],
    ["GET /api", "/api/", false],
  ])("%j on %s → %s", (text, path, expected) => {
    expect(routeMatches(pattern(text), "GET", seg(path))).toBe(expected);
  });

  it("compares decoded segments literally: a segment containing '/' never equals two segments", () => {
    expect(routeMatches(pattern("GET /a/b"), "GET", ["a/b"])).toBe(false);
    expect(routeMatches(pattern("GET /a/*"), "GET", ["a/b"])).toBe(false);
  });

  const segmentArb = fc.stringMatching(/^[A-Za-z0-9._~-]{1,8}$/).filter((s) => s !== "." && s !== "..");

  it("a wildcard pattern matches its prefix with anything below it, and a plain one only itself (property)", () => {
    fc.assert(
      fc.property(
        fc.array(segmentArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.oneof(segmentArb, fc.constant("")), { maxLength: 4 }),
        fc.constantFrom(...SUPPORTED_METHODS),
        (prefix, below, method) => {
          const wild = pattern(`${method} /${prefix.join("/")}/*`);
          const plain = pattern(`${method} /${prefix.join("/")}`);
          expect(routeMatches(wild, method, [...prefix, ...below])).toBe(true);
          expect(routeMatches(plain, method, prefix)).toBe(true);
          expect(routeMatches(plain, method, [...prefix, ...below])).toBe(below.length === 0);
          expect(routeMatches(wild, method, prefix.slice(0, -1))).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("changing any one segment of the prefix breaks the match (property)", () => {
    fc.assert(
      fc.property(
        fc.array(segmentArb, { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.constantFrom("x", "", "X", "-"),
        (prefix, index, extra) => {
          const i = index % prefix.length;
          const changed = [...prefix];
          changed[i] = extra === "" ? "" : `${prefix[i]}${extra}`;
          fc.pre(changed[i] !== prefix[i]);
          expect(routeMatches(pattern(`GET /${prefix.join("/")}/*`), "GET", [...changed, "tail"])).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("parseRoutePolicy", () => {
  it("parses the default policy into six rules, none shadowed (its GET rule covers HEAD)", () => {
    const parsed = parseRoutePolicy(DEFAULT_ROUTE_POLICY);
    expect(parsed?.rules.map((r) => r.pattern.method)).toEqual(["GET", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]);
    expect(parsed?.shadowed).toEqual([]);
  });

  it.each<[string, unknown]>([
    ["an empty policy", []],
    ["a rule with no scopes (any valid key)", [{ route: "GET /public/*", scopes: [] }]],
    ["scopes with ':', '.', '-', '_' and digits", [{ route: "* /*", scopes: ["billing:write", "a.b-c_d", "r2"] }]],
    ["a 64-character scope", [{ route: "* /*", scopes: [`a${"b".repeat(63)}`] }]],
    ["extra properties on a rule", [{ route: "GET /*", scopes: ["read"], note: "ignored" }]],
  ])("accepts %s", (_label, rules) => {
    const parsed = parseRoutePolicy(rules);
    expect(parsed).not.toBeNull();
    expect(parsed?.rules).toHaveLength((rules as unknown[]).length);
  });

  it("keeps each rule's parsed pattern, scopes and cost (default 1) in order", () => {
    expect(
      parseRoutePolicy([
        { route: "GET /a/*", scopes: ["read"] },
        { route: "* /b", scopes: [], cost: 1000 },
      ]),
    ).toEqual({
      rules: [
        { pattern: { method: "GET", segments: ["a"], wildcard: true }, scopes: ["read"], cost: 1 },
        { pattern: { method: "*", segments: ["b"], wildcard: false }, scopes: [], cost: 1000 },
      ],
      shadowed: [],
    });
  });

  const good = { route: "GET /*", scopes: ["read"] };
  it.each<[string, unknown]>([
    ["null", null],
    ["undefined", undefined],
    ["an object", { route: "GET /*", scopes: [] }],
    ["a string", "GET /*"],
    ["a number", 42],
    ["a null rule", [null]],
    ["a string rule", ["GET /*"]],
    ["an array rule", [["GET /*", ["read"]]]],
    ["a rule without route", [{ scopes: ["read"] }]],
    ["a numeric route", [{ route: 42, scopes: ["read"] }]],
    ["a malformed route", [{ route: "GET /a//b", scopes: ["read"] }]],
    ["a route with a lower-case method", [{ route: "get /*", scopes: ["read"] }]],
    ["a rule without scopes", [{ route: "GET /*" }]],
    ["scopes as a string", [{ route: "GET /*", scopes: "read" }]],
    ["scopes as null", [{ route: "GET /*", scopes: null }]],
    ["a numeric scope", [{ route: "GET /*", scopes: [1] }]],
    ["a null scope", [{ route: "GET /*", scopes: [null] }]],
    ["an upper-case scope", [{ route: "GET /*", scopes: ["Read"] }]],
    ["a scope starting with a digit", [{ route: "GET /*", scopes: ["1read"] }]],
    ["a scope starting with '_'", [{ route: "GET /*", scopes: ["_read"] }]],
    ["an empty scope", [{ route: "GET /*", scopes: [""] }]],
    ["a 65-character scope", [{ route: "GET /*", scopes: [`a${"b".repeat(64)}`] }]],
    ["a scope with a space", [{ route: "GET /*", scopes: ["read write"] }]],
    ["a cost of 0", [{ route: "GET /*", scopes: [], cost: 0 }]],
    ["a cost above 1,000", [{ route: "GET /*", scopes: [], cost: 1001 }]],
    ["a fractional cost", [{ route: "GET /*", scopes: [], cost: 1.5 }]],
    ["a cost as a string", [{ route: "GET /*", scopes: [], cost: "5" }]],
    ["a scope with a trailing newline", [{ route: "GET /*", scopes: ["read\n"] }]],
    ["a wildcard scope", [{ route: "GET /*", scopes: ["*"] }]],
    ["one bad rule after good ones", [good, good, { route: "GET /../x", scopes: ["read"] }]],
    ["one bad scope among good ones", [good, { route: "POST /*", scopes: ["write", "Admin"] }]],
  ])("refuses %s", (_label, rules) => {
    expect(parseRoutePolicy(rules)).toBeNull();
  });
});

describe("shadowed rules (first match wins, so a rule an earlier one covers can never apply)", () => {
  const shadowedOf = (routes: string[]) =>
    parseRoutePolicy(routes.map((route) => ({ route, scopes: ["read"] })))?.shadowed;

  it.each<[string, string[], { index: number; shadowedBy: number }[]]>([
    ["HEAD after GET on the same path", ["GET /a", "HEAD /a"], [{ index: 1, shadowedBy: 0 }]],
    ["HEAD under an earlier GET wildcard", ["GET /a/*", "HEAD /a/b"], [{ index: 1, shadowedBy: 0 }]],
    ["a HEAD wildcard under a GET wildcard", ["GET /a/*", "HEAD /a/b/*"], [{ index: 1, shadowedBy: 0 }]],
    [
      "anything after * /*",
      ["* /*", "POST /x", "GET /y/*"],
      [
        { index: 1, shadowedBy: 0 },
        { index: 2, shadowedBy: 0 },
      ],
    ],
    ["the same rule twice", ["POST /x", "POST /x"], [{ index: 1, shadowedBy: 0 }]],
    ["named by the first rule that covers it", ["GET /a", "GET /*", "HEAD /a"], [{ index: 2, shadowedBy: 0 }]],
  ])("finds %s", (_label, routes, expected) => {
    expect(shadowedOf(routes)).toEqual(expected);
  });

  it.each<[string, string[]]>([
    ["GET after HEAD (GET requests still reach it)", ["HEAD /a", "GET /a"]],
    ["a wildcard after the exact path", ["GET /a", "HEAD /a/*"]],
    ["a specific rule before a general one", ["GET /a/b", "GET /a/*"]],
    ["* after a single method", ["GET /a", "* /a"]],
    ["a sibling path", ["GET /a/*", "HEAD /ab"]],
    ["a trailing slash, which is its own path", ["GET /a", "HEAD /a/"]],
  ])("does not flag %s", (_label, routes) => {
    expect(shadowedOf(routes)).toEqual([]);
  });

  it("keeps a shadowed rule in the policy, where it changes no answer", () => {
    const parsed = parseRoutePolicy([
      { route: "GET /a/*", scopes: ["read"] },
      { route: "HEAD /a/*", scopes: ["admin"] },
    ]);
    expect(parsed?.rules).toHaveLength(2);
    expect(scopesOf(parsed!.rules, "HEAD", seg("/a/x"))).toEqual(["read"]);
  });
});

describe("requiredScopes", () => {
  const rules = [
    { route: "GET /api/v1/public/*", scopes: [] },
    { route: "GET /api/*", scopes: ["read"] },
    { route: "* /api/*", scopes: ["write"] },
  ];

  it.each<[string, string, string[] | null]>([
    ["GET", "/api/v1/public/x", []],
    ["GET", "/api/v1/public", []],
    ["GET", "/api/v1/private", ["read"]],
    ["GET", "/api", ["read"]],
    ["POST", "/api/v1/public/x", ["write"]],
    ["DELETE", "/api/x", ["write"]],
    ["GET", "/other", null],
    ["POST", "/", null],
  ])("%s %s → %j", (method, path, expected) => {
    expect(scopesOf(policy(rules), method, seg(path))).toEqual(expected);
  });

  it("the first matching rule wins, so reordering the rules changes the answer", () => {
    const reversed = policy([...rules].reverse());
    expect(scopesOf(reversed, "GET", seg("/api/v1/public/x"))).toEqual(["write"]);
    expect(scopesOf(reversed, "GET", seg("/api/x"))).toEqual(["write"]);
  });

  it("an empty policy requires nothing it can grant: every request is unmatched (null)", () => {
    expect(scopesOf([], "GET", seg("/"))).toBeNull();
    expect(scopesOf([], "GET", seg("/api/x"))).toBeNull();
  });

  it("an empty scope list is returned as [] (any key), distinct from null (no rule)", () => {
    const result = scopesOf(policy(rules), "GET", seg("/api/v1/public/x"));
    expect(result).not.toBeNull();
    expect(result).toEqual([]);
  });
});

describe("DEFAULT_ROUTE_POLICY", () => {
  const defaults = policy(DEFAULT_ROUTE_POLICY);
  const paths = ["/", "/api/v1/x", "/a/b/c/", "/.well-known/x"];

  describe.each<[string, string[]]>([
    ["GET", ["read", "admin"]],
    ["HEAD", ["read", "admin"]],
    ["OPTIONS", ["read", "admin"]],
    ["POST", ["write", "admin"]],
    ["PUT", ["write", "admin"]],
    ["PATCH", ["write", "admin"]],
    ["DELETE", ["write", "admin"]],
  ])("%s", (method, scopes) => {
    it.each(paths)(`needs ${scopes.join(" or ")} on %s`, (path) => {
      expect([...scopesOf(defaults, method, seg(path))!].sort()).toEqual([...scopes].sort());
    });
  });

  it.each(["get", "TRACE", "CONNECT", ""])("has no rule for method %j (deny by default)", (method) => {
    expect(scopesOf(defaults, method, seg("/api/x"))).toBeNull();
  });

  it("covers every supported method", () => {
    for (const method of SUPPORTED_METHODS) expect(scopesOf(defaults, method, seg("/x"))).not.toBeNull();
  });
});
