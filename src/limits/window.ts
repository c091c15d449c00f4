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

/**
 * What a limiter object (a key's or a consumer's) answers when it grants tokens, and when its limits refuse;
 * the isolate's lease books (./lease-book.ts) read both objects' answers through these.
 */
export interface Granted {
  ok: true;
  version: number;
  granted: number;
  leaseExpiresAt: number;
  limits: LimitState[];
}
export type LimitRefusal = "rate_limited" | "quota_exceeded";
export interface LimitRefused {
  ok: false;
  code: LimitRefusal;
  version: number;
  /** Null when the request needs more than a limit's whole size: it can never be admitted. */
  retryAt: number | null;
  limits: LimitState[];
}

/** Limits of a day or longer are quotas: refused as `quota_exceeded` rather than `rate_limited`. */
const QUOTA_WINDOW_SECONDS = 86_400;

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
  let cap = Number.POSITIVE_INFINITY; // no limits: nothing to exceed (the isolate caps what it asks for)
  for (const def of limits) cap = Math.min(cap, Math.floor((def.limit * leaseMs) / (def.window_seconds * SECOND_MS)));
  return Math.max(1, cap);
}

export type TakeResult =
  | { granted: number; states: LimitState[] }
  /**
   * Nothing was taken from any limit. `retryAt` is when every blocking limit has room again, or null when the
   * request needs more than a blocking limit's whole size and can never be admitted.
   */
  | ({ granted: 0; states: LimitState[] } & Blocked);

/** What a limit refusal answers: `code` by the blocking limit's window, `retryAt` as in TakeResult. */
export interface Blocked {
  exhausted: LimitState;
  retryAt: number | null;
  code: LimitRefusal;
}

/**
 * Whether these states leave fewer than `need` tokens in some limit, and if so which limit blocks longest:
 * the one rule for taking (`take`) and for looking without taking (the key check, src/limits/peek.ts).
 */
export function blockedBy(states: readonly LimitState[], need: number): Blocked | null {
  const blocking = states.filter((s) => s.remaining < need);
  if (blocking.length === 0) return null;
  const last = blocking.reduce((a, b) => (b.reset_at > a.reset_at ? b : a));
  const never = blocking.some((s) => s.limit < need);
  const code = last.window_seconds >= QUOTA_WINDOW_SECONDS ? "quota_exceeded" : "rate_limited";
  return { exhausted: last, retryAt: never ? null : last.reset_at, code };
}

/**
 * Takes between `need` and `want` tokens from every limit at once: as many as the tightest limit has left.
 * If any limit has fewer than `need` left, nothing is taken from any of them (all or nothing).
 */
export function take(
  limits: readonly RateLimit[],
  counters: Map<string, Counter>,
  now: number,
  want: number,
  need = 1,
): TakeResult {
  const before = limitStates(limits, counters, now);
  const blocked = blockedBy(before, need);
  if (blocked) return { granted: 0, states: before, ...blocked };
  const granted = Math.max(need, Math.min(want, ...before.map((s) => s.remaining)));
  const states = before.map((s) => {
    const windowStart = s.reset_at - s.window_seconds * SECOND_MS;
    counters.set(s.name, { windowStart, used: s.limit - s.remaining + granted });
    return { ...s, remaining: s.remaining - granted };
  });
  return { granted, states };
}

/**
 * Gives back tokens taken at `takenAt` and never used (a request refused by another limiter after this one
 * granted it): each limit whose window is still the one they were taken in gets them back.
 */
export function giveBack(
  limits: readonly RateLimit[],
  counters: Map<string, Counter>,
  takenAt: number,
  now: number,
  tokens: number,
): void {
  for (const def of limits) {
    const counter = counters.get(def.name);
    const start = windowStartOf(takenAt, def.window_seconds);
    if (!counter || counter.windowStart !== start || windowStartOf(now, def.window_seconds) !== start) continue;
    counters.set(def.name, { windowStart: start, used: Math.max(0, counter.used - tokens) });
  }
}
