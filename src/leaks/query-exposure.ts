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
import { recordRefusal, throttledUntil } from "../limits/throttle";
import type { WaitUntil } from "../notify/webhook";
import { log } from "../util/log";
import { keysInQuery } from "../verify/credential";
import { processLeakReports } from "./process";

/** Keys looked up per request at most (a URL may repeat a parameter). */
const MAX_KEYS_PER_URL = 4;
const DAY_MS = 86_400_000;


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
      reports.push({ keyHash, fingerprint, location: `${request.method} ${request.url.pathname.slice(0, 512)}` });
    }
    if (reports.length === 0) return;
    await processLeakReports(
      {
        env,
        waitUntil,
        source: "gateway_query",
        actor: "gateway",
        requestId: request.requestId,
        revoke: env.REVOKE_ON_QUERY_EXPOSURE === "true",
        reportedAt: now,
        notifyType: "key.exposed",
      },
      reports,
    );
  } catch (error) {
    log("error", "leaks.query_exposure_unrecorded", { request_id: request.requestId, error: (error as Error).name });
  }
}
