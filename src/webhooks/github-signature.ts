/**
 * GitHub's secret-scanning signing keys and the signature check. GitHub signs each alert with ECDSA P-256
 * over SHA-256 of the raw body, sends the signature base64 DER-encoded, and names the key in
 * `Github-Public-Key-Identifier`. The keys come only from GITHUB_SECRET_SCANNING_KEYS_URL (GitHub's
 * `meta/public_keys/secret_scanning` document), never from a URL in the request; they are cached per
 * isolate and fetched again, with a timeout, when an unknown key id arrives.
 */
import { log } from "../util/log";
import { clock, timeoutSignal } from "../util/clock";
import { HOUR_MS } from "../util/time";

/** How long fetched keys are trusted before the document is fetched again. */
export const GITHUB_KEYS_CACHE_TTL_MS = HOUR_MS;
/** How long one fetch of the key document may take; GitHub gives the whole alert 30 s. */
export const GITHUB_KEYS_FETCH_TIMEOUT_MS = 2_000;
/**
 * The least time between two fetches triggered by unknown key ids, so a flood of made-up ids (the endpoint
 * is public) costs at most one fetch per interval. A genuinely new GitHub key waits at most this long,
 * and GitHub retries an alert it could not deliver.
 */
export const GITHUB_KEYS_REFETCH_INTERVAL_MS = 30_000;

interface KeySet {
  url: string;
  keys: Map<string, CryptoKey>;
  fetchedAt: number;
}

let cached: KeySet | null = null;
let lastAttempt: { url: string; at: number } | null = null;

/** The key for an id: a CryptoKey, "unknown" (the document has no such key), or "unavailable" (no document). */
export type KeyLookup = CryptoKey | "unknown" | "unavailable";

function pemToDer(pem: string): Uint8Array | null {
  const match = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  if (!match) return null;
  try {
    return Uint8Array.from(atob(match[1]!.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

async function fetchKeySet(url: string, now: number): Promise<KeySet> {
  const { signal, cancel } = timeoutSignal(GITHUB_KEYS_FETCH_TIMEOUT_MS);
  let body: { public_keys?: unknown };
  try {
    const response = await fetch(url, {
      headers: { Accept: "application/json", "User-Agent": "edge-key-authorizer" },
      signal,
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`key document answered ${response.status}`);
    }
    body = await response.json();
  } finally {
    cancel();
  }
  const keys = new Map<string, CryptoKey>();
  for (const entry of Array.isArray(body.public_keys) ? body.public_keys : []) {
    const { key_identifier: id, key } = (entry ?? {}) as { key_identifier?: unknown; key?: unknown };
    if (typeof id !== "string" || typeof key !== "string") continue;
    const der = pemToDer(key);
    if (!der) continue;
    try {
      keys.set(
        id,
        await crypto.subtle.importKey("spki", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]),
      );
    } catch {
      // Not a P-256 key: skip it, the others may still verify.
    }
  }
  return { url, keys, fetchedAt: now };
}

/** The signing key with this id, fetching the document when it is stale or does not know the id. */
export async function githubKey(url: string, keyId: string, now = clock.now()): Promise<KeyLookup> {
  const current = cached?.url === url ? cached : null;
  const fresh = current !== null && now - current.fetchedAt < GITHUB_KEYS_CACHE_TTL_MS;
  const known = current?.keys.get(keyId);
  if (fresh && known) return known;
  // Stale, or an id the document did not have: fetch again, at most once per interval.
  const recentlyTried = lastAttempt?.url === url && now - lastAttempt.at < GITHUB_KEYS_REFETCH_INTERVAL_MS;
  if (!recentlyTried) {
    lastAttempt = { url, at: now };
    try {
      cached = await fetchKeySet(url, now);
    } catch {
      // Alerts are answered 503 until the document can be fetched.
      log("error", "leaks.github_keys_fetch_failed", { degraded: "github_keys_unavailable" });
    }
  }
  // Keys fetched earlier stay usable while the document cannot be fetched: GitHub rotates them rarely.
  const set = cached?.url === url ? cached : null;
  if (!set) return "unavailable";
  return set.keys.get(keyId) ?? "unknown";
}

/**
 * An ECDSA signature in DER (`SEQUENCE { INTEGER r, INTEGER s }`) as the raw 64-byte r‖s Web Crypto
 * verifies. Null for anything that is not exactly that structure.
 */
export function derToRawSignature(der: Uint8Array): Uint8Array | null {
  let offset = 0;
  const readLength = (): number | null => {
    const first = der[offset++];
    if (first === undefined) return null;
    if (first < 0x80) return first;
    if (first !== 0x81) return null; // a P-256 signature is never longer than 255 bytes
    const length = der[offset++];
    return length !== undefined && length >= 0x80 ? length : null;
  };
  if (der[offset++] !== 0x30) return null;
  const sequenceLength = readLength();
  if (sequenceLength === null || offset + sequenceLength !== der.length) return null;
  const out = new Uint8Array(64);
  for (const half of [0, 1]) {
    if (der[offset++] !== 0x02) return null;
    const length = readLength();
    if (length === null || length < 1 || length > 33 || offset + length > der.length) return null;
    let integer = der.subarray(offset, offset + length);
    offset += length;
    if (integer[0]! & 0x80) return null; // negative: not a valid r or s
    while (integer.length > 1 && integer[0] === 0) integer = integer.subarray(1);
    if (integer.length > 32) return null;
    out.set(integer, half * 32 + (32 - integer.length));
  }
  return offset === der.length ? out : null;
}

/** Whether `signatureBase64` (DER) is a valid signature of `body` under `key`. Never throws on bad input. */
export async function verifyGithubSignature(
  key: CryptoKey,
  signatureBase64: string,
  body: Uint8Array,
): Promise<boolean> {
  let der: Uint8Array;
  try {
    der = Uint8Array.from(atob(signatureBase64.trim()), (c) => c.charCodeAt(0));
  } catch {
    return false;
  }
  const raw = derToRawSignature(der);
  if (!raw) return false;
  return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw, body);
}
