/**
 * Rate-limit response headers, as in the IETF httpapi rate-limit headers draft:
 *   RateLimit-Policy: "hour";q=1000;w=3600, "burst";q=10;w=1
 *   RateLimit: "hour";r=12;t=30        (the limit closest to running out: r remaining, t seconds to reset)
 * A consumer's shared limits are listed after the key's, named "consumer.<name>", so that a key limit and a
 * consumer limit both called "hour" cannot be confused. A key without consumer limits gets the same bytes
 * as before consumers existed.
 */
import type { DecisionLimit } from "../http/decision";

const secondsUntil = (at: number, now: number) => Math.max(0, Math.ceil((at - now) / 1000));

/** A limit's name as the headers (and the admin limits views) give it: "consumer.<name>" for a consumer's. */
export const rateLimitName = (l: DecisionLimit) => (l.subject === "consumer" ? `consumer.${l.name}` : l.name);

export function rateLimitHeaders(limits: readonly DecisionLimit[], now: number): Record<string, string> {
  if (limits.length === 0) return {};
  const tightest = limits.reduce((a, b) =>
    b.remaining < a.remaining || (b.remaining === a.remaining && b.reset_at < a.reset_at) ? b : a,
  );
  return {
    "RateLimit-Policy": limits.map((l) => `"${rateLimitName(l)}";q=${l.limit};w=${l.window_seconds}`).join(", "),
    RateLimit: `"${rateLimitName(tightest)}";r=${tightest.remaining};t=${secondsUntil(tightest.reset_at, now)}`,
  };
}

export function retryAfterSeconds(retryAt: number, now: number): number {
  return Math.max(1, secondsUntil(retryAt, now));
}
