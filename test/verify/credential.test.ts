/**
 * Reading the presented key from X-API-Key or Authorization: Bearer, and refusing keys in the query string.
 * Anything ambiguous (empty, duplicated, conflicting, impossible characters) is malformed, never a guess.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import { QUERY_CREDENTIAL_NAMES, hasCredentialInQuery, readCredential } from "../../src/verify/credential";

const KEY = "sk_test_0123456789abcdefABCDEF";
/** A key of the grammar with a valid checksum, and the same with its last character changed. */
const REAL = generateKey("", "secret", "live");
const BAD_CHECKSUM = REAL.slice(0, -1) + (REAL.endsWith("0") ? "1" : "0");
const OTHER = "sk_test_ZYXWVUTSRQPONMLKJIH";

function headers(entries: [string, string][]): Headers {
  const h = new Headers();
  for (const [name, value] of entries) h.append(name, value);
  return h;
}

describe("readCredential", () => {
  it("no credential header: missing", () => {
    expect(readCredential(new Headers())).toEqual({ kind: "missing" });
    expect(
      readCredential(
        headers([
          ["Cookie", `key=${KEY}`],
          ["X-Api-Token", KEY],
        ]),
      ),
    ).toEqual({ kind: "missing" });
  });

  it.each<[string, [string, string][]]>([
    ["X-API-Key", [["X-API-Key", KEY]]],
    ["x-api-key in lower case", [["x-api-key", KEY]]],
    ["X-API-Key with surrounding spaces", [["X-API-Key", `  ${KEY}  `]]],
    ["Bearer", [["Authorization", `Bearer ${KEY}`]]],
    ["bearer in lower case", [["Authorization", `bearer ${KEY}`]]],
    ["BEARER in upper case", [["Authorization", `BEARER ${KEY}`]]],
    ["BeArEr in mixed case", [["Authorization", `BeArEr ${KEY}`]]],
    ["Bearer with several spaces", [["Authorization", `Bearer    ${KEY}`]]],
    ["Bearer with a tab", [["Authorization", `Bearer\t${KEY}`]]],
    ["Bearer with surrounding whitespace", [["Authorization", `  Bearer ${KEY} \t`]]],
    [
      "both headers, equal",
      [
        ["X-API-Key", KEY],
        ["Authorization", `Bearer ${KEY}`],
      ],
    ],
    [
      "both headers, equal after trimming",
      [
        ["X-API-Key", ` ${KEY}`],
        ["Authorization", `bearer   ${KEY}  `],
      ],
    ],
    [
      "X-API-Key beside another Authorization scheme",
      [
        ["X-API-Key", KEY],
        ["Authorization", "Basic dXNlcjpwYXNz"],
      ],
    ],
  ])("%s: the key", (_label, entries) => {
    expect(readCredential(headers(entries))).toEqual({ kind: "key", key: KEY });
  });

  it.each<[string, string]>([
    ["Basic", "Basic dXNlcjpwYXNz"],
    ["Token", `Token ${KEY}`],
    ["Digest", 'Digest username="u", realm="r"'],
    ["a scheme glued to the token", `Bearer${KEY}`],
    ["a scheme with a dash", `Bearer-${KEY}`],
    ["a bare key in Authorization", KEY],
  ])("an Authorization scheme other than Bearer (%s): missing", (_label, value) => {
    expect(readCredential(headers([["Authorization", value]]))).toEqual({ kind: "missing" });
  });

  it.each<[string, [string, string][]]>([
    [
      "both headers, different",
      [
        ["X-API-Key", KEY],
        ["Authorization", `Bearer ${OTHER}`],
      ],
    ],
    [
      "both headers, differing only in case",
      [
        ["X-API-Key", KEY],
        ["Authorization", `Bearer ${KEY.toUpperCase()}`],
      ],
    ],
    ["an empty Bearer", [["Authorization", "Bearer"]]],
    ["an empty Bearer with trailing spaces", [["Authorization", "Bearer    "]]],
    ["an empty bearer with a tab", [["Authorization", "bearer\t"]]],
    [
      "an empty Bearer beside a valid X-API-Key",
      [
        ["X-API-Key", KEY],
        ["Authorization", "Bearer"],
      ],
    ],
    ["an empty X-API-Key", [["X-API-Key", ""]]],
    ["a blank X-API-Key", [["X-API-Key", "   "]]],
    [
      "an empty X-API-Key beside a valid Bearer",
      [
        ["X-API-Key", ""],
        ["Authorization", `Bearer ${KEY}`],
      ],
    ],
    [
      "X-API-Key twice, equal (joined with ', ')",
      [
        ["X-API-Key", KEY],
        ["X-API-Key", KEY],
      ],
    ],
    [
      "X-API-Key twice, different",
      [
        ["X-API-Key", KEY],
        ["X-API-Key", OTHER],
      ],
    ],
    [
      "Authorization twice",
      [
        ["Authorization", `Bearer ${KEY}`],
        ["Authorization", `Bearer ${KEY}`],
      ],
    ],
    [
      "Authorization twice, one empty",
      [
        ["Authorization", `Bearer ${KEY}`],
        ["Authorization", ""],
      ],
    ],
    ["a comma in X-API-Key", [["X-API-Key", `${KEY},${OTHER}`]]],
    ["a comma in the Bearer token", [["Authorization", `Bearer ${KEY},${OTHER}`]]],
    ["a space inside X-API-Key", [["X-API-Key", `${KEY} ${OTHER}`]]],
    ["two Bearer tokens", [["Authorization", `Bearer ${KEY} ${OTHER}`]]],
    ["a tab inside X-API-Key", [["X-API-Key", `${KEY}\t${OTHER}`]]],
    ["a tab inside the Bearer token", [["Authorization", `Bearer ${KEY}\tx`]]],
    ["\\x01 inside X-API-Key", [["X-API-Key", `${KEY}\u0001`]]],
    ["\\x1f inside X-API-Key", [["X-API-Key", `a\u001fb`]]],
    ["DEL inside X-API-Key", [["X-API-Key", `${KEY}\u007f`]]],
    ["\\x01 inside the Bearer token", [["Authorization", `Bearer a\u0001b`]]],
    ["DEL inside the Bearer token", [["Authorization", `Bearer ${KEY}\u007f`]]],
  ])("%s: malformed", (_label, entries) => {
    expect(readCredential(headers(entries))).toEqual({ kind: "malformed" });
  });

  it("NUL, CR and LF cannot even be put in a header, so they never reach the reader", () => {
    for (const ch of ["\u0000", "\r", "\n"]) {
      expect(() => new Headers([["X-API-Key", `a${ch}b`]])).toThrow(TypeError);
    }
  });

  // Printable ASCII except the comma: what a credential can be made of.
  const tokenArb = fc.stringMatching(/^[!-+\--~]{1,80}$/);

  it("any printable token is read the same from X-API-Key, Bearer, or both (property)", () => {
    fc.assert(
      fc.property(tokenArb, fc.mixedCase(fc.constant("bearer")), (token, scheme) => {
        const expected = { kind: "key", key: token };
        expect(readCredential(headers([["X-API-Key", token]]))).toEqual(expected);
        expect(readCredential(headers([["Authorization", `${scheme} ${token}`]]))).toEqual(expected);
        expect(
          readCredential(
            headers([
              ["X-API-Key", token],
              ["Authorization", `${scheme} ${token}`],
            ]),
          ),
        ).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("two different tokens, or any token sent twice, are malformed (property)", () => {
    fc.assert(
      fc.property(tokenArb, tokenArb, (a, b) => {
        expect(
          readCredential(
            headers([
              ["X-API-Key", a],
              ["X-API-Key", b],
            ]),
          ),
        ).toEqual({ kind: "malformed" });
        if (a !== b) {
          expect(
            readCredential(
              headers([
                ["X-API-Key", a],
                ["Authorization", `Bearer ${b}`],
              ]),
            ),
          ).toEqual({ kind: "malformed" });
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("hasCredentialInQuery", () => {
  const url = (query: string) => new URL(`https://authorizer.test/api/v1/x${query}`);
  /** The parameter names a client might put a key in; each must be refused in any case. */
  const names = ["api_key", "api-key", "apikey", "key", "access_token", "token", "x-api-key"];

  it("every refused name is in the exported set (compared in lower case)", () => {
    for (const name of names) expect(QUERY_CREDENTIAL_NAMES.has(name)).toBe(true);
    for (const name of QUERY_CREDENTIAL_NAMES) expect(name).toBe(name.toLowerCase());
  });

  describe.each(names)("%s", (name) => {
    it.each([
      ["lower case", `?${name}=${KEY}`],
      ["upper case", `?${name.toUpperCase()}=${KEY}`],
      ["title case", `?${name[0]!.toUpperCase()}${name.slice(1)}=${KEY}`],
      ["after other parameters", `?page=2&q=x&${name}=${KEY}`],
      ["with an empty value", `?${name}=`],
      ["without a value", `?${name}`],
      ["twice", `?${name}=a&${name}=b`],
      [
        "percent-encoded",
        `?${encodeURIComponent(name).replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`)}=${KEY}`,
      ],
    ])("%s", (_label, query) => {
      expect(hasCredentialInQuery(url(query), "")).toBe(true);
    });

    it("in any mix of cases (property)", () => {
      fc.assert(
        fc.property(fc.mixedCase(fc.constant(name)), (spelled) => {
          expect(hasCredentialInQuery(url(`?${spelled}=${KEY}`), "")).toBe(true);
        }),
        { numRuns: 100 },
      );
    });
  });

  it.each([
    ["no query", ""],
    ["an empty query", "?"],
    ["harmless parameters", "?page=2&sort=asc&q=hello"],
    ["a credential name as a value", "?q=api_key&filter=token"],
    ["a key-like value of a harmless parameter (not a key: wrong length)", `?q=${KEY}`],
    ["a real key's shape with a wrong checksum", `?q=${BAD_CHECKSUM}`],
    ["a key of another vendor", `?q=acme_${REAL}`],
    ["names that merely contain one", "?keyword=x&monkey=1&hotkey=k&tokens=3&token_type=bearer&api_keys=1&key_id=k"],
    ["a name with a prefix", "?my_token=x&xkey=1"],
    ["a credential name in the path", "/api_key/token"],
    ["a credential name in the fragment", "#api_key=x"],
  ])("not for %s", (_label, suffix) => {
    const target = suffix.startsWith("/") ? new URL(`https://authorizer.test${suffix}`) : url(suffix);
    expect(hasCredentialInQuery(target, "")).toBe(false);
  });

  it.each([
    ["under any parameter name", `?q=${REAL}`],
    ["inside a longer value", `?filter=owner:${REAL},x`],
    ["percent-encoded", `?q=${REAL.replace(/_/g, "%5F")}`],
    ["in a second parameter", `?page=1&redirect=${encodeURIComponent(`https://x.test/?k=${REAL}`)}`],
  ])("for a key of this authorizer %s", (_label, query) => {
    expect(hasCredentialInQuery(url(query), "")).toBe(true);
  });

  it("for a key under the configured vendor part, and not for the same key without it", () => {
    const vendorKey = generateKey("acme", "secret", "live");
    expect(hasCredentialInQuery(url(`?q=${vendorKey}`), "acme")).toBe(true);
    expect(hasCredentialInQuery(url(`?q=${REAL}`), "acme")).toBe(false);
  });
});
