/**
 * The key grammar: generation, parsing, the CRC-32 checksum, base62 and the scanning pattern. Pure
 * functions, tested on their own and with property tests.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  BASE62,
  CHECKSUM_LENGTH,
  ENVIRONMENTS,
  MAX_KEY_LENGTH,
  RANDOM_LENGTH,
  checksumOf,
  crc32,
  generateKey,
  keyPatternSource,
  keyPrefix,
  parseKey,
  randomBase62,
  toBase62,
  type Environment,
  type KeyType,
} from "../../src/keys/format";

const TYPES: readonly [KeyType, string][] = [
  ["secret", "sk"],
  ["publishable", "pk"],
];
const VENDORS = ["", "acme"] as const;

/** Every (vendor, type, type code, environment) combination. */
const COMBOS = VENDORS.flatMap((vendor) =>
  TYPES.flatMap(([type, code]) => ENVIRONMENTS.map((environment) => ({ vendor, type, code, environment }))),
);

/** Decodes base62 independently of the module under test (BASE62 is the documented alphabet order). */
function fromBase62(text: string): number {
  let n = 0;
  for (const ch of text) {
    const digit = BASE62.indexOf(ch);
    if (digit < 0) throw new Error(`not base62: ${ch}`);
    n = n * 62 + digit;
  }
  return n;
}

/** A table-driven CRC-32 (reflected, polynomial 0xEDB88320), written apart from the bitwise one in src. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function referenceCrc32(bytes: readonly number[]): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A valid key built from a chosen random part (same grammar as generateKey, but reproducible). */
function keyFrom(vendor: string, type: KeyType, environment: Environment, random: string): string {
  return keyPrefix(vendor, type, environment) + random + checksumOf(random);
}

/** A generated key of the default kind, split into its parts. */
function partsOf(key: string) {
  const body = key.slice(-(RANDOM_LENGTH + CHECKSUM_LENGTH));
  return {
    prefix: key.slice(0, key.length - body.length),
    random: body.slice(0, RANDOM_LENGTH),
    checksum: body.slice(RANDOM_LENGTH),
  };
}

const base62Char = fc.constantFrom(...BASE62.split(""));
const randomPartArb = fc.string({ unit: base62Char, minLength: RANDOM_LENGTH, maxLength: RANDOM_LENGTH });

describe("crc32", () => {
  it.each([
    // The standard check value of CRC-32/ISO-HDLC (zlib, PNG, Ethernet).
    ["123456789", 0xcbf43926],
    ["", 0x00000000],
    ["a", 0xe8b7be43],
    ["The quick brown fox jumps over the lazy dog", 0x414fa339],
  ])("crc32(%j) is the published value", (text, expected) => {
    expect(crc32(text)).toBe(expected);
  });

  it("agrees with an independent table-driven CRC-32 on any ASCII string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary-ascii", maxLength: 80 }), (text) => {
        const bytes = Array.from(text, (c) => c.charCodeAt(0));
        expect(crc32(text)).toBe(referenceCrc32(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it("is an unsigned 32-bit integer", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary-ascii" }), (text) => {
        const value = crc32(text);
        expect(Number.isInteger(value)).toBe(true);
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(0xffffffff);
      }),
    );
  });
});

describe("toBase62", () => {
  it.each([
    [0, "000000"],
    [1, "000001"],
    [9, "000009"],
    [10, "00000A"],
    [35, "00000Z"],
    [36, "00000a"],
    [61, "00000z"],
    [62, "000010"],
    [62 * 62, "000100"],
    [62 ** 6 - 1, "zzzzzz"],
  ])("toBase62(%d, 6) === %j", (value, expected) => {
    expect(toBase62(value, 6)).toBe(expected);
  });

  it("round-trips every 32-bit value in exactly 6 characters (62^6 > 2^32)", () => {
    expect(62 ** 6).toBeGreaterThan(2 ** 32);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const text = toBase62(n, CHECKSUM_LENGTH);
        expect(text).toHaveLength(CHECKSUM_LENGTH);
        expect(fromBase62(text)).toBe(n);
      }),
      { numRuns: 1000 },
    );
    expect(fromBase62(toBase62(0xffffffff, CHECKSUM_LENGTH))).toBe(0xffffffff);
  });
});

describe("generateKey and parseKey round trip", () => {
  describe.each(COMBOS)("vendor=$vendor type=$type environment=$environment", ({ vendor, type, code, environment }) => {
    const expectedPrefix = `${vendor ? `${vendor}_` : ""}${code}_${environment}_`;

    it("has the grammar's prefix, length and alphabet", () => {
      const key = generateKey(vendor, type, environment);
      expect(key.startsWith(expectedPrefix)).toBe(true);
      expect(key).toHaveLength(expectedPrefix.length + RANDOM_LENGTH + CHECKSUM_LENGTH);
      expect(key.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
      expect(key.slice(expectedPrefix.length)).toMatch(/^[0-9A-Za-z]{49}$/);
      expect(keyPrefix(vendor, type, environment)).toBe(expectedPrefix);
    });

    it("carries CRC32 of the 43 random characters as 6 zero-padded base62 characters", () => {
      for (let i = 0; i < 50; i++) {
        const { random, checksum } = partsOf(generateKey(vendor, type, environment));
        expect(checksum).toHaveLength(6);
        expect(fromBase62(checksum)).toBe(crc32(random));
        expect(fromBase62(checksum)).toBe(referenceCrc32(Array.from(random, (c) => c.charCodeAt(0))));
      }
    });

    it("parses back to its type, environment, prefix and hint", () => {
      const key = generateKey(vendor, type, environment);
      expect(parseKey(key, vendor)).toEqual({ prefix: expectedPrefix, type, environment, hint: key.slice(-4) });
    });

    it("is refused under the other vendor setting", () => {
      const key = generateKey(vendor, type, environment);
      expect(parseKey(key, vendor ? "" : "acme")).toBeNull();
    });
  });

  it("two generated keys differ", () => {
    const keys = new Set(Array.from({ length: 200 }, () => generateKey("", "secret", "live")));
    expect(keys.size).toBe(200);
  });

  it("a 16-character vendor gives the longest possible key, which still parses", () => {
    const vendor = "abcdefghijklmnop";
    const key = generateKey(vendor, "secret", "live");
    expect(key).toHaveLength(MAX_KEY_LENGTH);
    expect(parseKey(key, vendor)).not.toBeNull();
  });

  it("a small checksum is left-padded with zeros and accepted", () => {
    // Find a random part whose CRC is below 62^3, so its base62 form needs three padding zeros.
    let random = "";
    for (let i = 0; ; i++) {
      random = `${i}`.padStart(RANDOM_LENGTH, "A");
      if (crc32(random) < 62 ** 3) break;
    }
    const checksum = checksumOf(random);
    expect(checksum.startsWith("000")).toBe(true);
    expect(fromBase62(checksum)).toBe(crc32(random));
    expect(parseKey(`sk_live_${random}${checksum}`, "")).not.toBeNull();
  });
});

describe("parseKey refuses", () => {
  const key = generateKey("acme", "secret", "live");
  const plain = generateKey("", "secret", "live");
  const { random, checksum } = partsOf(key);

  /** A random part with a Latin "a" at position 5, and the same with a Cyrillic "а" (U+0430) there. */
  const withA = `${random.slice(0, 5)}a${random.slice(6)}`;
  const withCyrillicA = `${random.slice(0, 5)}\u0430${random.slice(6)}`;
  const keyWithA = keyFrom("acme", "secret", "live", withA);

  it("control: the keys the refusals are derived from are valid", () => {
    expect(parseKey(key, "acme")).not.toBeNull();
    expect(parseKey(plain, "")).not.toBeNull();
    expect(parseKey(keyWithA, "acme")).not.toBeNull();
  });

  it.each<[string, string, string]>([
    ["a wrong vendor", generateKey("beta", "secret", "live"), "acme"],
    ["a vendor that extends the configured one", generateKey("acmex", "secret", "live"), "acme"],
    ["a vendor that is a prefix of the configured one", generateKey("ac", "secret", "live"), "acme"],
    ["the vendor in upper case", `ACME_${key.slice(5)}`, "acme"],
    ["a missing vendor when one is configured", plain, "acme"],
    ["a vendor when none is configured", key, ""],
    ["an unknown type code", `acme_rk_live_${random}${checksum}`, "acme"],
    ["an unknown environment", `acme_sk_prod_${random}${checksum}`, "acme"],
    ["an upper-case type code", `acme_SK_live_${random}${checksum}`, "acme"],
    ["an upper-case environment", `acme_sk_LIVE_${random}${checksum}`, "acme"],
    ["dashes for underscores", `acme-sk-live-${random}${checksum}`, "acme"],
    ["a missing separator", `acme_sklive_${random}${checksum}`, "acme"],
    ["a doubled separator", `acme__sk_live_${random}${checksum}`, "acme"],
    ["no prefix at all", `${random}${checksum}`, "acme"],
    ["one character too many", `${key}0`, "acme"],
    ["one character too few", key.slice(0, -1), "acme"],
    ["the checksum alone dropped", key.slice(0, -CHECKSUM_LENGTH), "acme"],
    ["a 1 MB string", `acme_sk_live_${"A".repeat(1_000_000)}`, "acme"],
    ["the empty string", "", "acme"],
    ["a leading space", ` ${key}`, "acme"],
    ["a trailing space", `${key} `, "acme"],
    ["a trailing newline", `${key}\n`, "acme"],
    ["a zero-width space inside the random part", `${key.slice(0, 20)}\u200b${key.slice(20)}`, "acme"],
    ["a zero-width space at the end", `${key}\u200b`, "acme"],
    ["a byte-order mark at the start", `\ufeff${key}`, "acme"],
    ["a zero-width joiner in the prefix", `acme_sk\u200d_live_${random}${checksum}`, "acme"],
    [
      "a Cyrillic 'а' (U+0430) for a Latin 'a' in the random part",
      `acme_sk_live_${withCyrillicA}${checksumOf(withA)}`,
      "acme",
    ],
    ["a Cyrillic 'а' (U+0430) in the vendor", `\u0430cme_sk_live_${random}${checksum}`, "acme"],
    ["a Cyrillic 'ѕ' (U+0455) in the type code", `acme_\u0455k_live_${random}${checksum}`, "acme"],
    ["a full-width digit", `${key.slice(0, -1)}\uff10`, "acme"],
  ])("%s", (_label, candidate, vendor) => {
    expect(parseKey(candidate, vendor)).toBeNull();
  });

  // The cases below carry a correct checksum over their random part, so only the shape check can refuse them.
  it.each<[string, string]>([
    ["42 random characters", "A".repeat(RANDOM_LENGTH - 1)],
    ["44 random characters", "A".repeat(RANDOM_LENGTH + 1)],
    ["a '-' in the random part", `${random.slice(0, 10)}-${random.slice(11)}`],
    ["a '_' in the random part", `${random.slice(0, 10)}_${random.slice(11)}`],
    ["a '+' in the random part", `${random.slice(0, 10)}+${random.slice(11)}`],
    ["a '/' in the random part", `${random.slice(0, 10)}/${random.slice(11)}`],
    ["a '=' in the random part", `${random.slice(0, 42)}=`],
    ["a space in the random part", `${random.slice(0, 10)} ${random.slice(11)}`],
    ["a Cyrillic 'а' (U+0430) in the random part", withCyrillicA],
    ["a zero-width space in the random part", `${random.slice(0, 10)}\u200b${random.slice(11)}`],
  ])("%s, even with a matching checksum", (_label, badRandom) => {
    const candidate = `acme_sk_live_${badRandom}${checksumOf(badRandom)}`;
    expect(parseKey(candidate, "acme")).toBeNull();
  });

  it("a checksum that is one off", () => {
    const off = toBase62((crc32(random) + 1) % 2 ** 32, CHECKSUM_LENGTH);
    expect(parseKey(`acme_sk_live_${random}${off}`, "acme")).toBeNull();
  });

  it("a checksum with one letter in the other case", () => {
    // Draw until the checksum has a letter (six base62 digits are all decimal with chance (10/62)^6 ≈ 2e-5).
    let parts = partsOf(generateKey("acme", "secret", "live"));
    while (!/[A-Za-z]/.test(parts.checksum)) parts = partsOf(generateKey("acme", "secret", "live"));
    const swapped = parts.checksum.replace(/[A-Za-z]/, (c) =>
      c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase(),
    );
    expect(parseKey(`acme_sk_live_${parts.random}${parts.checksum}`, "acme")).not.toBeNull();
    expect(parseKey(`acme_sk_live_${parts.random}${swapped}`, "acme")).toBeNull();
  });

  /*
   * Any one substituted character in the random part or the checksum is refused, deterministically: CRC-32
   * detects every burst error of up to 32 bits, and a substituted ASCII character changes at most 8 bits of
   * the input; a substitution inside the checksum changes the value compared against; any non-base62
   * replacement fails the alphabet. So this is a property, not a probability.
   */
  it("any single-character change in the random part or checksum (property)", () => {
    const replacement = fc.oneof(
      base62Char,
      fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
      fc.constantFrom("\u0430", "\u200b", "\u0000", "-", "_", " "),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...COMBOS),
        randomPartArb,
        fc.integer({ min: 0, max: RANDOM_LENGTH + CHECKSUM_LENGTH - 1 }),
        replacement,
        ({ vendor, type, environment }, random, offset, ch) => {
          const valid = keyFrom(vendor, type, environment, random);
          expect(parseKey(valid, vendor)).not.toBeNull();
          const at = valid.length - RANDOM_LENGTH - CHECKSUM_LENGTH + offset;
          fc.pre(valid[at] !== ch);
          const mutated = valid.slice(0, at) + ch + valid.slice(at + 1);
          expect(parseKey(mutated, vendor)).toBeNull();
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("every single-character base62 substitution of one generated key, exhaustively", () => {
    const generated = generateKey("acme", "publishable", "test");
    const start = generated.length - RANDOM_LENGTH - CHECKSUM_LENGTH;
    let tried = 0;
    for (let at = start; at < generated.length; at++) {
      for (const ch of BASE62) {
        if (generated[at] === ch) continue;
        tried++;
        expect(parseKey(generated.slice(0, at) + ch + generated.slice(at + 1), "acme")).toBeNull();
      }
    }
    expect(tried).toBe((RANDOM_LENGTH + CHECKSUM_LENGTH) * 61);
  });
});

describe("keyPatternSource", () => {
  const anchored = (vendor: string, type?: KeyType, environment?: Environment) =>
    new RegExp(`^${keyPatternSource(vendor, type, environment)}$`);

  it.each(COMBOS)(
    "matches generated keys: vendor=$vendor type=$type environment=$environment",
    ({ vendor, type, environment }) => {
      const key = generateKey(vendor, type, environment);
      expect(anchored(vendor).test(key)).toBe(true);
      expect(anchored(vendor, type).test(key)).toBe(true);
      expect(anchored(vendor, type, environment).test(key)).toBe(true);
    },
  );

  it.each(COMBOS)(
    "narrows by type and environment: vendor=$vendor type=$type environment=$environment",
    ({ vendor, type, environment }) => {
      const key = generateKey(vendor, type, environment);
      const otherType: KeyType = type === "secret" ? "publishable" : "secret";
      const otherEnvironment: Environment = environment === "live" ? "test" : "live";
      expect(anchored(vendor, otherType).test(key)).toBe(false);
      expect(anchored(vendor, type, otherEnvironment).test(key)).toBe(false);
    },
  );

  const key = generateKey("acme", "secret", "live");
  const { random, checksum } = partsOf(key);
  it.each<[string, string]>([
    ["48 body characters", key.slice(0, -1)],
    ["50 body characters", `${key}A`],
    ["a '-' in the body", `acme_sk_live_${random.slice(0, 42)}-${checksum}`],
    ["another vendor", `beta_sk_live_${random}${checksum}`],
    ["no vendor", `sk_live_${random}${checksum}`],
    ["an unknown type", `acme_xk_live_${random}${checksum}`],
    ["an unknown environment", `acme_sk_prod_${random}${checksum}`],
    ["an upper-case prefix", `ACME_SK_LIVE_${random}${checksum}`],
    ["a Cyrillic 'а' in the body", `acme_sk_live_\u0430${random.slice(1)}${checksum}`],
  ])("rejects a near miss: %s", (_label, candidate) => {
    expect(anchored("acme").test(candidate)).toBe(false);
  });

  it("is shape only: a wrong checksum matches the pattern, and parseKey is what refuses it", () => {
    const wrong = `acme_sk_live_${random}${checksum === "000000" ? "000001" : "000000"}`;
    expect(anchored("acme").test(wrong)).toBe(true);
    expect(parseKey(wrong, "acme")).toBeNull();
  });

  it("finds a key inside text with word boundaries, and not a longer token", () => {
    const scan = new RegExp(`\\b${keyPatternSource("acme")}\\b`, "g");
    const text = `config: token="${key}"; other=acme_sk_live_${random}${checksum}X`;
    expect(Array.from(text.matchAll(scan), (m) => m[0])).toEqual([key]);
  });
});

describe("randomBase62", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each([0, 1, 22, 43, 63, 64, 65, 1000])("returns exactly %d characters of the alphabet", (length) => {
    const out = randomBase62(length);
    expect(out).toHaveLength(length);
    for (const ch of out) expect(BASE62).toContain(ch);
  });

  // getRandomValues refuses buffers over 65,536 bytes; the function takes any length, so it must draw in chunks.
  it("returns 40,000 characters, more than one getRandomValues call may fill", () => {
    const out = randomBase62(40_000);
    expect(out).toHaveLength(40_000);
    expect(out).toMatch(/^[0-9A-Za-z]+$/);
  });

  it("throws away bytes 248..255 and maps the rest by byte % 62", () => {
    // The first buffer is all rejects, so the generator must draw again.
    const draws: number[][] = [
      new Array(256).fill(255),
      [248, 0, 249, 61, 62, 250, 123, 247, 251, 252, 253, 254, 185, 186],
    ];
    let call = 0;
    vi.spyOn(crypto, "getRandomValues").mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
      const bytes = array as unknown as Uint8Array;
      bytes.fill(255);
      bytes.set((draws[call++] ?? []).slice(0, bytes.length));
      return array;
    });
    // 0→'0', 61→'z', 62→'0', 123→'z' (123 = 62+61), 247→'z' (247 = 3×62+61), 185→'x' (185 = 2×62+61), 186→'0'.
    expect(randomBase62(7)).toBe("0z0zzz0");
    expect(call).toBe(2);
  });

  /*
   * Modulo-bias check. Sample n = 200,000 characters (in calls of 50, the size real callers use). For a
   * uniform generator each of the 62 characters has p = 1/62: expected count n/62 ≈ 3225.8, standard
   * deviation sqrt(n·p·(1−p)) ≈ 56.3. The bound allows ±10% (±322.6 ≈ 5.7σ); the chance that any of the 62
   * counts lands outside is about 62 × 1.2e-8 ≈ 7e-7 per run, so the test does not flake.
   *
   * A biased `byte % 62` generator maps 256 = 4×62 + 8 byte values, so the first 8 characters get 5/256 and
   * the rest 4/256: expected 3906 (+21%) for '0'..'7' and 3125 (−3%) for the others. 3906 is 12σ above the
   * +10% bound of 3548, so such a generator fails every run; the last test proves the detector on one.
   */
  const SAMPLE = 200_000;
  function tooUneven(sample: string): string[] {
    const counts = new Map<string, number>(BASE62.split("").map((c) => [c, 0]));
    for (const ch of sample) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    const expected = sample.length / 62;
    return [...counts].filter(([, n]) => Math.abs(n - expected) > expected * 0.1).map(([c, n]) => `${c}:${n}`);
  }

  it("draws every character about equally often (no modulo bias)", () => {
    let sample = "";
    while (sample.length < SAMPLE) sample += randomBase62(50);
    expect(sample).toHaveLength(SAMPLE);
    expect(sample).toMatch(/^[0-9A-Za-z]+$/);
    expect(tooUneven(sample)).toEqual([]);
  });

  it("the bias check does catch a byte % 62 generator", () => {
    // Every byte value equally often, exactly (not drawn at random, which let one of the 54 unbiased
    // characters fall 4σ low about once in 600 runs): what `byte % 62` makes of a perfect byte source.
    let biased = "";
    for (let i = 0; biased.length < SAMPLE; i++) biased += BASE62[(i % 256) % 62];
    const flagged = tooUneven(biased.slice(0, SAMPLE));
    expect(flagged.map((entry) => entry[0]).sort()).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
  });
});
