/**
 * Sign-in attempts per client address, as the refusal throttle counts refused keys (src/verify/throttle.ts):
 * per address (per /64 for IPv6), in fixed windows, per isolate and bounded. An address that failed
 * SIGN_IN_FAILURES_ALLOWED times in a window is refused until the window ends without its token being
 * compared, so the admin token cannot be guessed at the speed of the Worker. Per isolate: a guesser spread
 * over many isolates gets that many more tries, which against a 256-bit token changes nothing.
 */
import { BoundedTtlCache } from "../util/bounded-cache";
import { toHex } from "../util/hex";
import { parseIp } from "../util/ip";
import { MINUTE_MS } from "../util/time";

/** Failed sign-ins allowed per address per window. */
const SIGN_IN_FAILURES_ALLOWED = 5;
const SIGN_IN_WINDOW_MS = 15 * MINUTE_MS;
/** Addresses tracked per isolate; beyond it the oldest are forgotten. */
const MAX_CLIENTS = 10_000;

const failures = new BoundedTtlCache<string, { windowStart: number; count: number }>({
  maxEntries: MAX_CLIENTS,
  ttlMs: SIGN_IN_WINDOW_MS,
});

/** The client attempts are counted against: the address, its /64 for IPv6, or "unknown" without one. */
export function signInClient(ip: string | null): string {
  const bytes = ip === null ? null : parseIp(ip);
  if (!bytes) return "unknown";
  return bytes.length === 4 ? ip! : `${toHex(bytes.subarray(0, 8))}/64`;
}

const windowStart = (now: number) => now - (now % SIGN_IN_WINDOW_MS);

/** When this client may try again (epoch ms), or null if it may now. */
export function signInThrottledUntil(client: string, now: number): number | null {
  const entry = failures.get(client, now);
  if (!entry || entry.windowStart !== windowStart(now) || entry.count < SIGN_IN_FAILURES_ALLOWED) return null;
  return entry.windowStart + SIGN_IN_WINDOW_MS;
}

export function recordSignInFailure(client: string, now: number): void {
  const start = windowStart(now);
  const entry = failures.get(client, now);
  failures.set(client, { windowStart: start, count: entry && entry.windowStart === start ? entry.count + 1 : 1 }, now);
}
