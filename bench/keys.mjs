// Test data for the benchmark: key strings the authorizer never minted. This mirrors src/keys/format.ts (the
// grammar, CRC32 and base62 checksum) so the harness does not import TypeScript from src/; if the grammar
// changes there, change it here too (the smoke run fails loudly if the two disagree: unknown keys would
// answer for the wrong reason and the malformed/unknown scenarios would still pass, so the harness also
// checks one key of each kind against the Worker before any load, see checkKeyKinds in scripts/bench.mjs).
import { randomBytes } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
const PREFIX = "sk_live_";

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 (IEEE 802.3) of an ASCII string, as in format.ts (table-driven here for speed: 100,000s of keys). */
export function crc32(text) {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function toBase62(value, width) {
  let out = "";
  let n = value;
  do {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(width, "0");
}

export const checksumOf = (random) => toBase62(crc32(random), CHECKSUM_LENGTH);

function randomBase62(length) {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A well-formed `sk_live_` key with a correct checksum that nobody minted. */
export function unknownKey() {
  const random = randomBase62(RANDOM_LENGTH);
  return PREFIX + random + checksumOf(random);
}

/** A well-formed key whose last character is changed, so its checksum no longer matches. */
export function badChecksumKey() {
  const key = unknownKey();
  const last = key.at(-1);
  return key.slice(0, -1) + (last === "0" ? "1" : "0");
}
