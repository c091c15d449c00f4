/**
 * A key seen in a URL query string at the gateway. The gateway refuses such a request (`key_in_query`)
 * before anything else; afterwards, off the request path (`waitUntil`), a key found there that belongs to
 * this authorizer is recorded as an exposure event and its owner told — URLs end up in logs, browser history
 * and Referer headers. It is revoked too only when REVOKE_ON_QUERY_EXPOSURE is "true" (off by default).
 *
 * Each lookup counts as a refused credential for the client's refusal throttle, so made-up keys in query
 * strings cost no more D1 reads than made-up keys in headers; unknown keys leave no event.
 */
import type { Config } from "../config";
import { sha256Hex } from "../keys/hash";
import { findKeyByHash } from "../keys/store";
import { recordRefusal, throttledUntil } from "../verify/throttle";
import type { WaitUntil } from "../http/context";
import { log } from "../util/log";
import { DAY_MS } from "../util/time";
import { keysInQuery } from "../verify/credential";
import { leakContext, processLeakReports } from "./process";
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
export function exposureLocation(method: string, pathname: string): string {
  return safeText(`${method} ${percentDecoded(pathname)}`, MAX_EXPOSURE_LOCATION_LENGTH);
}

/** Decodes every run of %XX escapes as UTF-8 (malformed bytes become U+FFFD); never throws, unlike decodeURIComponent. */
function percentDecoded(path: string): string {
  return path.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
    utf8.decode(Uint8Array.from(run.match(/%[0-9A-Fa-f]{2}/g)!, (escape) => parseInt(escape.slice(1), 16))),
  );
}

/**
 * Records the exposure of the keys in this URL. Never throws: it runs after the refusal was answered.
 * @example c.executionCtx.waitUntil(recordQueryExposure(env, waitUntil, config, { url, method, ip }, now));
 */
export async function recordQueryExposure(
  env: Cloudflare.Env,
  waitUntil: WaitUntil,
  config: Config,
  request: { url: URL; method: string; ip: string | null; requestId: string },
  now: number,
): Promise<void> {
  try {
    const keys = keysInQuery(request.url, config.vendor).slice(0, MAX_KEYS_PER_URL);
    const reports = [];
    for (const key of keys) {
      if (throttledUntil(config.refusalThrottle, request.ip, now) !== null) break;
      recordRefusal(config.refusalThrottle, request.ip, now);
      const keyHash = await sha256Hex(key);
      if (!(await findKeyByHash(env.DB, keyHash))) continue;
      // One event per key per UTC day: a client repeating the mistake is one exposure, not thousands.
      const fingerprint = `gateway_query:${await sha256Hex(`gateway_query\n${key}\n${Math.floor(now / DAY_MS)}`)}`;
      reports.push({ keyHash, fingerprint, location: exposureLocation(request.method, request.url.pathname) });
    }
    if (reports.length === 0) return;
    const policy = { source: "gateway_query", actor: "gateway", revoke: env.REVOKE_ON_QUERY_EXPOSURE === "true", notifyType: "key.exposed" } as const;
    await processLeakReports(leakContext({ env, waitUntil, requestId: request.requestId }, policy, now), reports);
  } catch (error) {
    log("error", "leaks.query_exposure_unrecorded", { request_id: request.requestId, error: (error as Error).name });
  }
}
