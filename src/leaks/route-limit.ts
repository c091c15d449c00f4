/**
 * A fixed-window request limit for the leak routes (ingest and truffleHog verification) and the key check,
 * per isolate, per route and caller. Each request to them can cost many D1 statements and revocations (or,
 * for the check, a key lookup that a stolen credential could use as an oracle), so a runaway CI job or a
 * stolen credential is slowed down; the bound is per isolate, not global, like the refusal throttle.
 */
import { ProblemError } from "../http/problem";
import { retryAfterSeconds } from "../limits/headers";
import { windowStartOf } from "../limits/window";
import { BoundedTtlCache } from "../util/bounded-cache";
import { MINUTE_MS } from "../util/time";

const LEAK_ROUTE_WINDOW_MS = MINUTE_MS;
/** Requests per caller per window, by route. */
export const LEAK_ROUTE_LIMITS = { ingest: 30, verify: 120, check: 60 } as const;
/** Callers tracked per isolate; beyond it the oldest start counting afresh. */
const MAX_TRACKED_CALLERS = 10_000;

const windows = new BoundedTtlCache<string, { start: number; count: number }>({
  maxEntries: MAX_TRACKED_CALLERS,
  ttlMs: LEAK_ROUTE_WINDOW_MS,
});

/**
 * Counts one request, or refuses it with 429 and Retry-After when the caller has used up its window.
 * @example limitLeakRoute("ingest", `${actor}|${ip}`, clock.now());
 */
export function limitLeakRoute(route: keyof typeof LEAK_ROUTE_LIMITS, caller: string, now: number): void {
  const start = windowStartOf(now, LEAK_ROUTE_WINDOW_MS / 1000);
  const key = `${route}|${caller}`;
  const entry = windows.get(key, now);
  const count = entry && entry.start === start ? entry.count : 0;
  if (count >= LEAK_ROUTE_LIMITS[route]) {
    throw new ProblemError("rate_limited", { retryAfterSeconds: retryAfterSeconds(start + LEAK_ROUTE_WINDOW_MS, now) });
  }
  windows.set(key, { start, count: count + 1 }, now);
}
