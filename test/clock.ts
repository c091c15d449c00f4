/**
 * The tests' clock, installed for every test by test/setup.ts in place of the runtime's (src/util/clock.ts).
 * The Worker, its RPC entrypoint and the key's Durable Object run in the test's isolate and read the same
 * module, so they all see this clock.
 *
 * - Time stands still until something moves it: a test (`advance`, `advanceTo`), or the code itself when it
 *   waits on purpose (`sleep`: an admin call waiting out old leases, a retry's backoff), which moves the
 *   clock to the end of the wait and returns after one real tick. So a revocation still returns only once
 *   its leases have lapsed, in clock time, without the test waiting a real second.
 * - A deadline (`timer`: a hung binding, a slow origin) fires only once the clock has passed it. It fires
 *   from a short real-time poll in the context that set it, never from the context that moved the clock:
 *   workerd does not let one request's code run another request's I/O.
 */
import { setClock, systemClock, type Clock } from "../src/util/clock";
import { SECOND_MS } from "../src/util/time";

/** How often a pending deadline looks at the clock (real time; only while a deadline is pending). */
const TIMER_POLL_MS = 1;

export class FakeClock implements Clock {
  #now: number;
  readonly #deadlines = new Set<object>();

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number): Promise<void> {
    const end = this.#now + Math.max(0, ms);
    // After a real tick, so waits begun at the same clock time overlap as they would in real time.
    return new Promise((resolve) =>
      setTimeout(() => {
        if (this.#now < end) this.#now = end;
        resolve();
      }, 0),
    );
  }

  timer(ms: number, fire: () => void): () => void {
    const at = this.#now + ms;
    const token = {};
    this.#deadlines.add(token);
    let handle: ReturnType<typeof setTimeout>;
    const check = () => {
      if (this.#now >= at) {
        this.#deadlines.delete(token);
        fire();
      } else {
        handle = setTimeout(check, TIMER_POLL_MS);
      }
    };
    handle = setTimeout(check, 0);
    return () => {
      clearTimeout(handle);
      this.#deadlines.delete(token);
    };
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError("the clock only moves forward");
    this.#now += ms;
  }

  /** Moves the clock forward to `at` (epoch ms). */
  advanceTo(at: number): void {
    this.advance(at - this.#now);
  }

  /** Moves the clock to the start of the next window of `windowSeconds` (a fresh rate-limit window). */
  advanceToNextWindow(windowSeconds: number): void {
    const ms = windowSeconds * SECOND_MS;
    this.advanceTo(Math.floor(this.#now / ms) * ms + ms);
  }

  /** How many deadlines are waiting for the clock (a hung call under test has set one). */
  get pendingDeadlines(): number {
    return this.#deadlines.size;
  }

  /** Resolves once at least `count` deadlines are pending, e.g. once a request under test waits on a hung binding. */
  untilDeadlinesPending(count = 1): Promise<void> {
    return until(() => this.#deadlines.size >= count, `${count} pending deadline(s)`);
  }
}

/** Resolves once `condition` holds, looking every millisecond of real time; throws after 5,000 looks. */
export async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; !(await condition()); tries++) {
    if (tries > 5_000) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, TIMER_POLL_MS));
  }
}

/** Whether `promise` has settled once the work it waits on has had some real milliseconds to run. */
export async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  return settled;
}

/**
 * The one clock of the test run. It only moves forward, across every file the isolate runs (test/setup.ts
 * brings it up to the real time when a file starts), so nothing kept from an earlier file comes from the future.
 */
export const testClock = new FakeClock(0);

let onRealClock = false;

/**
 * Runs the rest of the current test on the runtime's clock: for the few end-to-end tests that prove a
 * promise in real time (a revocation is in force when the admin call returns). Call it first, and use only
 * keys made after it: the test clock runs days ahead of the real one (a day per file), so anything made on
 * it lies in the real clock's future. test/setup.ts puts the test clock back after the test.
 */
export function useRealClock(): void {
  setClock(systemClock);
  onRealClock = true;
}

/** Installs the test clock (test/setup.ts: when a file starts, and after each test). */
export function installTestClock(): void {
  if (onRealClock) testClock.advanceTo(Math.max(testClock.now(), Date.now()));
  onRealClock = false;
  setClock(testClock);
}
