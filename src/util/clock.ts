/**
 * What time it is, and waiting for time to pass. Every read of the time and every timer in `src/` goes
 * through the clock set here, so tests drive time (test/clock.ts) instead of sleeping. The fetch handler,
 * the RPC entrypoint and the key's Durable Object read the same module, so one clock serves them all.
 *
 * Two kinds of waiting, kept apart because a fake clock treats them differently:
 * - `sleep`: a wait the code takes on purpose (old leases lapsing, a retry's backoff). It always ends.
 * - `timer`: a deadline on work that may never answer (a hung binding, a slow origin). It only fires if the
 *   work has not answered by then.
 */

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves once `ms` have passed (at once if `ms` <= 0). */
  sleep(ms: number): Promise<void>;
  /** Calls `fire` once `ms` have passed, unless the returned function is called first. */
  timer(ms: number, fire: () => void): () => void;
}

/** The runtime's own time and timers: the clock of every deployed isolate. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve()),
  timer(ms, fire) {
    const handle = setTimeout(fire, ms);
    return () => clearTimeout(handle);
  },
};

let current: Clock = systemClock;

/**
 * Replaces the clock of this isolate (tests only; the Worker never calls it).
 * @example setClock(new FakeClock(Date.UTC(2026, 0, 1))); … setClock(systemClock);
 */
export function setClock(next: Clock): void {
  current = next;
}

/**
 * The clock of this isolate: what every module reads.
 * @example const now = clock.now(); await clock.sleep(wait);
 */
export const clock: Clock = {
  now: () => current.now(),
  sleep: (ms) => current.sleep(ms),
  timer: (ms, fire) => current.timer(ms, fire),
};

/**
 * A signal that aborts with a `TimeoutError` after `ms`, as `AbortSignal.timeout` does, but on the clock.
 * Call `cancel` once the work is done.
 * @example const { signal, cancel } = timeoutSignal(5_000); try { await fetch(url, { signal }); } finally { cancel(); }
 */
export function timeoutSignal(ms: number): { signal: AbortSignal; cancel: () => void } {
  const controller = new AbortController();
  const cancel = clock.timer(ms, () => controller.abort(new DOMException(`no answer within ${ms} ms`, "TimeoutError")));
  return { signal: controller.signal, cancel };
}
