/**
 * The limiter's arithmetic: fixed windows aligned to the Unix epoch, pure functions over a counter map.
 *
 * Why fixed windows: they are exact per window (never more than `limit` admissions between two resets,
 * under any concurrency, because the key's object applies them one request at a time), cheap (one number
 * per limit), easy to explain in a Retry-After, and they line daily quotas up with UTC days. The price is
 * at the edges: a client that spends a whole window's allowance just before a reset and again just after it
 * gets up to 2 × limit within a span shorter than one window. Pair a long limit with a short burst limit
 * (e.g. 10 per second beside 1000 per hour) where that matters.
 */
import type { RateLimit } from "../keys/key-record";
import { SECOND_MS } from "../util/time";

/** How much of a limit was used in which window. Missing or older than the current window means unused. */
export interface Counter {
  windowStart: number;
  used: number;
}

export interface LimitState extends RateLimit {
  remaining: number;
  /** When the current window ends (epoch ms). */
  reset_at: number;
}

/** Limits of a day or longer are quotas: refused as `quota_exceeded` rather than `rate_limited`. */
export const QUOTA_WINDOW_SECONDS = 86_400;

export function windowStartOf(now: number, windowSeconds: number): number {
  const ms = windowSeconds * SECOND_MS;
  return Math.floor(now / ms) * ms;
}

function stateOf(def: RateLimit, counter: Counter | undefined, now: number): LimitState {
  const start = windowStartOf(now, def.window_seconds);
  const used = counter && counter.windowStart === start ? counter.used : 0;
  return { ...def, remaining: Math.max(0, def.limit - used), reset_at: start + def.window_seconds * SECOND_MS };
}

export function limitStates(
  limits: readonly RateLimit[],
  counters: ReadonlyMap<string, Counter>,
  now: number,
): LimitState[] {
  return limits.map((def) => stateOf(def, counters.get(def.name), now));
}

/**
 * The most tokens one lease may carry: what the tightest limit allows in `leaseMs` at its full rate, and at
 * least one. A key allowed 5 per minute gets 1 (every request is decided by the object); a key allowed a
 * million per hour gets 277 per second-long lease.
 */
export function leaseCap(limits: readonly RateLimit[], leaseMs: number): number {
  let cap = Number.POSITIVE_INFINITY;
  for (const def of limits) cap = Math.min(cap, Math.floor((def.limit * leaseMs) / (def.window_seconds * SECOND_MS)));
  return Math.max(1, Number.isFinite(cap) ? cap : 1);
}

export type TakeResult =
  | { granted: number; states: LimitState[] }
  /** Nothing was taken from any limit. `retryAt` is when every exhausted limit has room again. */
  | { granted: 0; states: LimitState[]; exhausted: LimitState; retryAt: number };

/**
 * Takes up to `want` tokens from every limit at once: as many as the tightest limit has left. If any limit
 * has none left, nothing is taken from any of them.
 */
export function take(
  limits: readonly RateLimit[],
  counters: Map<string, Counter>,
  now: number,
  want: number,
): TakeResult {
  const before = limitStates(limits, counters, now);
  const exhausted = before.filter((s) => s.remaining === 0);
  if (exhausted.length > 0) {
    const last = exhausted.reduce((a, b) => (b.reset_at > a.reset_at ? b : a));
    return { granted: 0, states: before, exhausted: last, retryAt: last.reset_at };
  }
  const granted = Math.min(want, ...before.map((s) => s.remaining));
  const states = before.map((s) => {
    const windowStart = s.reset_at - s.window_seconds * SECOND_MS;
    counters.set(s.name, { windowStart, used: s.limit - s.remaining + granted });
    return { ...s, remaining: s.remaining - granted };
  });
  return { granted, states };
}
