/**
 * Properties of the key grammar over generated vendors, types, environments and bodies: what is minted
 * parses back; a single changed character never yields the same key; and the leak-scanning pattern agrees
 * with the parser on every string, so a scanner finds exactly the strings the authorizer would accept.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BASE62,
  checksumOf,
  generateKey,
  keyPatternSource,
  keyPrefix,
  parseKey,
  RANDOM_LENGTH,
  type Environment,
  type KeyType,
} from "../../src/keys/format";

const base62 = fc.constantFrom(...BASE62.split(""));
const vendor = fc.oneof(
  fc.constant(""),
  fc
    .tuple(
      fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz".split("")),
      fc.string({
        unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789".split("")),
        minLength: 1,
        maxLength: 15,
      }),
    )
    .map(([first, rest]) => first + rest),
);
const type = fc.constantFrom<KeyType>("secret", "publishable");
const environment = fc.constantFrom<Environment>("live", "test");
const body = fc.string({ unit: base62, minLength: RANDOM_LENGTH, maxLength: RANDOM_LENGTH });

/** A well-formed key from its parts (the same construction generateKey uses, with a chosen body). */
const keyOf = (v: string, t: KeyType, e: Environment, random: string) =>
  keyPrefix(v, t, e) + random + checksumOf(random);
const wellFormed = fc
  .tuple(vendor, type, environment, body)
  .map(([v, t, e, r]) => ({ vendor: v, type: t, environment: e, key: keyOf(v, t, e, r) }));

/** Characters a single change may introduce: the key alphabet, separators, and look-alikes. */
const replacement = fc.oneof(
  base62,
  fc.constantFrom(
    "_",
    "-",
    " ",
    ".",
    "\u0000",
    "\u200b",
    "\u00a0",
    "\u0430",
    "\u043e",
    "\u0455",
    "\uff41",
    "\u2010",
    "\ufeff",
  ),
  fc.string({ minLength: 1, maxLength: 1 }),
);

describe("key grammar (properties)", () => {
  it("every minted key parses back to its type, environment, prefix and hint, under its own vendor only", () => {
    fc.assert(
      fc.property(vendor, type, environment, (v, t, e) => {
        const key = generateKey(v, t, e);
        expect(parseKey(key, v)).toEqual({ prefix: keyPrefix(v, t, e), type: t, environment: e, hint: key.slice(-4) });
        expect(parseKey(key, v === "" ? "zz" : "")).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it("any single-character substitution, insertion or deletion gives a string that is refused, or a different valid key of another type or environment", () => {
    const edit = fc.record({
      kind: fc.constantFrom("substitute", "insert", "delete"),
      at: fc.nat(),
      char: replacement,
    });
    fc.assert(
      fc.property(wellFormed, edit, ({ vendor: v, type: t, environment: e, key }, { kind, at, char }) => {
        const i = at % key.length;
        const changed =
          kind === "substitute"
            ? key.slice(0, i) + char + key.slice(i + 1)
            : kind === "insert"
              ? key.slice(0, i) + char + key.slice(i)
              : key.slice(0, i) + key.slice(i + 1);
        fc.pre(changed !== key);
        const parsed = parseKey(changed, v);
        if (parsed === null) return;
        // The checksum covers the body, not the prefix: "sk"↔"pk" or "live"↔"test" yields another key's
        // prefix with the same body. It is never the same key (another prefix, so another hash).
        expect(`${parsed.type}/${parsed.environment}`).not.toBe(`${t}/${e}`);
        expect(changed.slice(-RANDOM_LENGTH - 6)).toBe(key.slice(-RANDOM_LENGTH - 6));
      }),
      { numRuns: 2000 },
    );
  });

  it("the anchored scan pattern accepts exactly what the parser accepts, once the checksum is checked", () => {
    // Strings near the grammar: well-formed keys, with an edit, with a random checksum, or arbitrary text.
    const candidate = fc.oneof(
      wellFormed.map((k) => ({ vendor: k.vendor, text: k.key })),
      fc.tuple(wellFormed, fc.nat(), replacement).map(([k, at, char]) => {
        const i = at % k.key.length;
        return { vendor: k.vendor, text: k.key.slice(0, i) + char + k.key.slice(i + 1) };
      }),
      fc
        .tuple(vendor, type, environment, body, fc.string({ unit: base62, minLength: 6, maxLength: 6 }))
        .map(([v, t, e, r, sum]) => ({
          vendor: v,
          text: keyPrefix(v, t, e) + r + sum,
        })),
      fc.tuple(vendor, fc.string({ maxLength: 80 })).map(([v, text]) => ({ vendor: v, text })),
    );
    fc.assert(
      fc.property(candidate, ({ vendor: v, text }) => {
        const shape = new RegExp(`^${keyPatternSource(v)}$`).test(text);
        const checksumOk = shape && checksumOf(text.slice(-RANDOM_LENGTH - 6, -6)) === text.slice(-6);
        expect(parseKey(text, v) !== null).toBe(checksumOk);
      }),
      { numRuns: 2000 },
    );
  });

  it("a scanner with word boundaries finds every key embedded in text, and nothing else that parses", () => {
    const separator = fc.constantFrom(" ", "\n", '"', "'", "=", ":", ",", "(", ")", "\t", "`");
    const filler = fc.string({ unit: fc.constantFrom("a", "b", " ", "=", "-", "\n", '"', "."), maxLength: 12 });
    fc.assert(
      fc.property(
        vendor,
        fc.array(fc.tuple(filler, separator, wellFormed, separator), { maxLength: 5 }),
        (v, pieces) => {
          const keys = pieces.map(([, , k]) => keyOf(v, k.type, k.environment, k.key.slice(-RANDOM_LENGTH - 6, -6)));
          const text = pieces.map(([fill, left, , right], i) => `${fill}${left}${keys[i]}${right}`).join("");
          const found = Array.from(text.matchAll(new RegExp(`\\b${keyPatternSource(v)}\\b`, "g")), (m) => m[0]).filter(
            (s) => parseKey(s, v),
          );
          expect(found).toEqual(keys);
        },
      ),
    );
  });
});
