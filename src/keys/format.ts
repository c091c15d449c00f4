/**
 * The key grammar, defined once. The generator, the parser and the leak-scanning rules all derive from it.
 *
 *   [<vendor>_]{sk|pk}_{live|test}_<43 base62 random chars><6 base62 chars of CRC32(random chars)>
 *
 * Scoped admin credentials follow the same grammar with the type code `ak` and no environment:
 *
 *   [<vendor>_]ak_<43 base62 random chars><6 base62 chars of CRC32(random chars)>
 *
 * 43 base62 characters carry 43 × log2(62) ≈ 256.03 bits. The checksum lets a mistyped or made-up key be
 * refused without touching storage, and lets scanners find real keys with almost no false positives.
 */

export const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const RANDOM_LENGTH = 43;
export const CHECKSUM_LENGTH = 6;
export const KEY_TYPES = { sk: "secret", pk: "publishable" } as const;
export const ENVIRONMENTS = ["live", "test"] as const;

export type KeyType = (typeof KEY_TYPES)[keyof typeof KEY_TYPES];
export type Environment = (typeof ENVIRONMENTS)[number];

/** A vendor part is lowercase letters and digits, starting with a letter, so it never contains the separator. */
export const VENDOR_SOURCE = "[a-z][a-z0-9]{1,15}";
const VENDOR_PATTERN = new RegExp(`^${VENDOR_SOURCE}$`);
/** Whether a deployment may use this vendor part: "" (none) or one of VENDOR_PATTERN. */
export const isVendorPart = (vendor: string) => vendor === "" || VENDOR_PATTERN.test(vendor);
const MAX_VENDOR_LENGTH = 16;

/** The longest string that can be a key: vendor (16) + "_" + "sk_live_" + 43 + 6. Anything longer is refused unread. */
export const MAX_KEY_LENGTH = MAX_VENDOR_LENGTH + 1 + "sk_live_".length + RANDOM_LENGTH + CHECKSUM_LENGTH;

/** The base62 alphabet as a regular-expression character class. */
export const BASE62_CLASS = "[0-9A-Za-z]";
const TYPE_CODES = Object.keys(KEY_TYPES).join("|");
const ENVIRONMENT_NAMES = ENVIRONMENTS.join("|");

/** The type code of a scoped admin credential, which has no environment part. */
const CREDENTIAL_CODE = "ak";

/**
 * The prefix of a key or an admin credential under any vendor part (or none), as a regular-expression
 * source: every secret this grammar mints, so redaction and scanners catch both.
 */
export const ANY_KEY_PREFIX_SOURCE = `(?:${VENDOR_SOURCE}_)?(?:(?:${TYPE_CODES})_(?:${ENVIRONMENT_NAMES})|${CREDENTIAL_CODE})_`;

/**
 * A regular-expression source for keys and admin credentials under any vendor part, for redaction, which must catch the keys of
 * every deployment, not only this one's: the prefix and a key's 49 characters or, with `atLeast`, that many
 * base62 characters and all that follow (a key cut short, or run on into other characters).
 */
export function anyKeyPatternSource(atLeast?: number): string {
  const count = atLeast === undefined ? `{${RANDOM_LENGTH + CHECKSUM_LENGTH}}` : `{${atLeast},}`;
  return `${ANY_KEY_PREFIX_SOURCE}${BASE62_CLASS}${count}`;
}

export interface ParsedKey {
  /** Everything before the random part, e.g. "sk_live_" or "acme_pk_test_". */
  prefix: string;
  type: KeyType;
  environment: Environment;
  /** The last four characters, safe to show as a hint. */
  hint: string;
}

const TYPE_CODE: Record<KeyType, string> = { secret: "sk", publishable: "pk" };

/** The prefix a key of this type and environment carries under the given vendor part ("" for none). */
export function keyPrefix(vendor: string, type: KeyType, environment: Environment): string {
  return `${vendor ? `${vendor}_` : ""}${TYPE_CODE[type]}_${environment}_`;
}

/**
 * A regular-expression source matching exactly the keys of this grammar, for scanners and gitleaks rules.
 * @example new RegExp(`\\b${keyPatternSource("acme")}\\b`)
 */
export function keyPatternSource(vendor: string, type?: KeyType, environment?: Environment): string {
  const v = vendor ? `${vendor}_` : "";
  const t = type ? TYPE_CODE[type] : `(?:${TYPE_CODES})`;
  const e = environment ?? `(?:${ENVIRONMENT_NAMES})`;
  return `${v}${t}_${e}_${BASE62_CLASS}{${RANDOM_LENGTH + CHECKSUM_LENGTH}}`;
}

/** The CRC-32 of every byte value, so that the checksum costs one lookup per character (every key is checked). */
const CRC32_TABLE = Uint32Array.from({ length: 256 }, (_, byte) => {
  let crc = byte;
  for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  return crc >>> 0;
});

/** CRC-32 (IEEE 802.3, the polynomial zlib and GitHub's tokens use) of an ASCII string. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = (crc >>> 8) ^ CRC32_TABLE[(crc ^ text.charCodeAt(i)) & 0xff]!;
  return (crc ^ 0xffffffff) >>> 0;
}

/** A number written in base62, left-padded with "0" to `width` characters. */
export function toBase62(value: number, width: number): string {
  let out = "";
  let n = value;
  do {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(width, "0");
}

export function checksumOf(randomPart: string): string {
  return toBase62(crc32(randomPart), CHECKSUM_LENGTH);
}

/**
 * `length` base62 characters from the CSPRNG, without modulo bias: bytes ≥ 248 (= 4 × 62) are thrown away,
 * so every remaining byte maps onto the 62 characters equally often.
 */
export function randomBase62(length: number): string {
  let out = "";
  // getRandomValues fills at most 65,536 bytes per call.
  const buffer = new Uint8Array(Math.min(65_536, Math.max(64, length * 2)));
  while (out.length < length) {
    crypto.getRandomValues(buffer);
    for (const byte of buffer) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** Mints a new key string. The caller stores only its hash and shows the string once. */
export function generateKey(vendor: string, type: KeyType, environment: Environment): string {
  const random = randomBase62(RANDOM_LENGTH);
  return keyPrefix(vendor, type, environment) + random + checksumOf(random);
}

const KEY_SHAPE = new RegExp(
  `^(?:(${VENDOR_SOURCE})_)?(${TYPE_CODES})_(${ENVIRONMENT_NAMES})_(${BASE62_CLASS}{${RANDOM_LENGTH}})(${BASE62_CLASS}{${CHECKSUM_LENGTH}})$`,
);

/**
 * Parses a presented credential against the grammar with the configured vendor part. Returns null for a
 * wrong prefix, length, alphabet or checksum: such a key is refused with no storage read.
 */
export function parseKey(candidate: string, vendor: string): ParsedKey | null {
  if (candidate.length > MAX_KEY_LENGTH) return null;
  const match = KEY_SHAPE.exec(candidate);
  if (!match) return null;
  const [, keyVendor = "", typeCode, environment, random, checksum] = match as unknown as [
    string,
    string | undefined,
    "sk" | "pk",
    Environment,
    string,
    string,
  ];
  if (keyVendor !== vendor) return null;
  if (checksumOf(random) !== checksum) return null;
  return {
    prefix: candidate.slice(0, candidate.length - RANDOM_LENGTH - CHECKSUM_LENGTH),
    type: KEY_TYPES[typeCode],
    environment,
    hint: candidate.slice(-4),
  };
}

/**
 * The keys of this grammar (under `vendor`, with a valid checksum) that occur anywhere in `text`, each once:
 * for finding keys where they should not be (a URL's query string). Random strings of the right shape are
 * not reported: the checksum must match.
 */
export function keysInText(text: string, vendor: string): string[] {
  const found = new Set<string>();
  const pattern = new RegExp(`(?<![0-9A-Za-z_])${keyPatternSource(vendor)}(?![0-9A-Za-z_])`, "g");
  for (const [candidate] of text.matchAll(pattern)) if (parseKey(candidate, vendor)) found.add(candidate);
  return [...found];
}

/** The prefix of this deployment's admin credentials, e.g. "acme_ak_". */
export function credentialPrefix(vendor: string): string {
  return `${vendor ? `${vendor}_` : ""}${CREDENTIAL_CODE}_`;
}

/** A regular-expression source matching exactly this deployment's admin credentials, for scanners and gitleaks rules. */
export function credentialPatternSource(vendor: string): string {
  return `${credentialPrefix(vendor)}${BASE62_CLASS}{${RANDOM_LENGTH + CHECKSUM_LENGTH}}`;
}

/** Mints a new admin credential. The caller stores only its hash and shows the string once. */
export function generateCredential(vendor: string): string {
  const random = randomBase62(RANDOM_LENGTH);
  return credentialPrefix(vendor) + random + checksumOf(random);
}

/**
 * Whether a presented string is an admin credential of this deployment: its prefix, length, alphabet and
 * checksum. Anything else is refused with no storage read. Returns its hint (the last four characters).
 */
export function parseCredential(candidate: string, vendor: string): { hint: string } | null {
  const prefix = credentialPrefix(vendor);
  if (candidate.length !== prefix.length + RANDOM_LENGTH + CHECKSUM_LENGTH || !candidate.startsWith(prefix))
    return null;
  const random = candidate.slice(prefix.length, prefix.length + RANDOM_LENGTH);
  const checksum = candidate.slice(prefix.length + RANDOM_LENGTH);
  if (!new RegExp(`^${BASE62_CLASS}+$`).test(random + checksum) || checksumOf(random) !== checksum) return null;
  return { hint: candidate.slice(-4) };
}

/**
 * The admin credentials of this deployment (valid checksum) that occur anywhere in `text`, each once: as
 * `keysInText`, for credentials where they should not be (a URL's query string).
 */
export function credentialsInText(text: string, vendor: string): string[] {
  const found = new Set<string>();
  const pattern = new RegExp(`(?<![0-9A-Za-z_])${credentialPatternSource(vendor)}(?![0-9A-Za-z_])`, "g");
  for (const [candidate] of text.matchAll(pattern)) if (parseCredential(candidate, vendor)) found.add(candidate);
  return [...found];
}
