/**
 * A key (or an admin credential) seen in a URL query string at the gateway. The gateway refuses such a
 * request (`key_in_query`) before anything else; afterwards, off the request path (`waitUntil`), a key or
 * credential found there that belongs to this authorizer is recorded as an exposure event and its owner (a
 * credential's creator) told — URLs end up in logs, browser history and Referer headers. It is revoked too only when REVOKE_ON_QUERY_EXPOSURE is "true" (off by default). This
 * finds the reports; recording them is the operation src/operations/record-query-exposure.ts.
 *
 * Each lookup counts as a refused credential for the client's refusal throttle, so made-up keys in query
 * strings cost no more D1 reads than made-up keys in headers; unknown keys leave no event.
 */
import type { Config } from "../config";
import { sha256Hex } from "../keys/hash";
import { findCredentialByHash } from "../credentials/store";
import { parseKey } from "../keys/format";
import { findKeyByHash } from "../keys/store";
import { recordRefusal, throttledUntil } from "../verify/throttle";
import { DAY_MS } from "../util/time";
import { keysInQuery } from "../verify/credential";
import type { LeakReport } from "./process";
import { safeText } from "./redact";

/** The longest location kept for an exposure (method and path). */
const MAX_EXPOSURE_LOCATION_LENGTH = 512;
const utf8 = new TextDecoder();
/** Keys looked up per request at most (a URL may repeat a parameter). */
const MAX_KEYS_PER_URL = 4;

/**
 * Where the key was seen: the method and path, with every key in the path redacted like any other location
 * (another key in the path is no less exposed). The path is percent-decoded first, so `%73k_live_…` is caught.
 */
function exposureLocation(method: string, pathname: string): string {
  return safeText(`${method} ${percentDecoded(pathname)}`, MAX_EXPOSURE_LOCATION_LENGTH);
}

/** Decodes every run of %XX escapes as UTF-8 (malformed bytes become U+FFFD); never throws, unlike decodeURIComponent. */
function percentDecoded(path: string): string {
  return path.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
    utf8.decode(Uint8Array.from(run.match(/%[0-9A-Fa-f]{2}/g)!, (hex) => parseInt(hex.slice(1), 16))),
  );
}

/**
 * The reports of the keys of this authorizer in this URL's query string: one per key per UTC day. Each lookup
 * counts on the client's refusal throttle, and lookups stop once the client is throttled.
 */
export async function queryExposureReports(
  env: Cloudflare.Env,
  config: Config,
  request: { url: URL; method: string; ip: string | null },
  now: number,
): Promise<LeakReport[]> {
  const keys = keysInQuery(request.url, config.vendor).slice(0, MAX_KEYS_PER_URL);
  const reports: LeakReport[] = [];
  for (const key of keys) {
    if (throttledUntil(config.refusalThrottle, request.ip, now) !== null) break;
    recordRefusal(config.refusalThrottle, request.ip, now);
    const hash = await sha256Hex(key);
    const isKey = parseKey(key, config.vendor) !== null;
    const found = isKey ? await findKeyByHash(env.DB, hash) : await findCredentialByHash(env.DB, hash);
    if (!found) continue;
    // One event per key per UTC day: a client repeating the mistake is one exposure, not thousands.
    const fingerprint = `gateway_query:${await sha256Hex(`gateway_query\n${key}\n${Math.floor(now / DAY_MS)}`)}`;
    reports.push({
      keyHash: isKey ? hash : null,
      credentialHash: isKey ? null : hash,
      fingerprint,
      location: exposureLocation(request.method, request.url.pathname),
    });
  }
  return reports;
}
