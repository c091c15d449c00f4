/**
 * The limiter's arithmetic (src/limits/window.ts) under random arrival schedules: several limits of
 * different windows at once, requests asking for leases of several tokens, spent by several isolates. For
 * every limit and every one of its windows, what was admitted never exceeds the limit; a refusal takes from
 * no limit; and nothing is refused while every limit still has room (the limiter does not under-admit).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { leaseCap, take, windowStartOf, type Counter } from "../../src/limits/window";
import type { RateLimit } from "../../src/keys/key-record";

const T0 = Date.UTC(2026, 10, 23, 11, 59, 0);

const limitSet = fc
  .uniqueArray(
    fc.record({ limit: fc.integer({ min: 1, max: 40 }), window_seconds: fc.constantFrom(1, 2, 10, 60, 3600, 86_400) }),
    { minLength: 1, maxLength: 3, selector: (d) => d.window_seconds },
  )
  .map((defs) => defs.map((d, i): RateLimit => ({ name: `l${i}`, ...d })));

const schedule = fc.array(
  fc.record({ dt: fc.integer({ min: 0, max: 4_000 }), want: fc.integer({ min: 1, max: 25 }) }),
  { maxLength: 120 },
);

describe("fixed windows under random schedules (properties)", () => {
  it("never admit more than any limit in any of its windows, with several limits at once", () => {
    fc.assert(
      fc.property(limitSet, schedule, (limits, steps) => {
        const counters = new Map<string, Counter>();
        const admitted = new Map<string, number>(); // `${limit}@${windowStart}` → tokens granted
        let now = T0;
        for (const { dt, want } of steps) {
          now += dt;
          const before = new Map([...counters].map(([k, v]) => [k, { ...v }]));
          const result = take(limits, counters, now, want);
          if ("exhausted" in result) {
            expect(result.granted).toBe(0);
            expect(counters).toEqual(before); // a refusal takes from no limit
            expect(result.retryAt).toBeGreaterThan(now);
            continue;
          }
          expect(result.granted).toBeGreaterThanOrEqual(1);
          expect(result.granted).toBeLessThanOrEqual(want);
          for (const def of limits) {
            const slot = `${def.name}@${windowStartOf(now, def.window_seconds)}`;
            admitted.set(slot, (admitted.get(slot) ?? 0) + result.granted);
          }
        }
        for (const [slot, count] of admitted) {
          const def = limits.find((d) => slot.startsWith(`${d.name}@`))!;
          expect(count, slot).toBeLessThanOrEqual(def.limit);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("refuse only when some limit has truly nothing left in its current window", () => {
    fc.assert(
      fc.property(limitSet, schedule, (limits, steps) => {
        const counters = new Map<string, Counter>();
        const used = new Map<string, number>();
        let now = T0;
        for (const { dt, want } of steps) {
          now += dt;
          const leftBefore = limits.map(
            (d) => d.limit - (used.get(`${d.name}@${windowStartOf(now, d.window_seconds)}`) ?? 0),
          );
          const result = take(limits, counters, now, want);
          if ("exhausted" in result) {
            expect(Math.min(...leftBefore)).toBe(0);
          } else {
            // Granted as much as asked, up to what the tightest limit had left.
            expect(result.granted).toBe(Math.min(want, ...leftBefore));
            for (const d of limits) {
              const slot = `${d.name}@${windowStartOf(now, d.window_seconds)}`;
              used.set(slot, (used.get(slot) ?? 0) + result.granted);
            }
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("a lease never carries more than the tightest limit allows in the lease period, and at least one token", () => {
    fc.assert(
      fc.property(limitSet, fc.integer({ min: 1, max: 10_000 }), (limits, leaseMs) => {
        const cap = leaseCap(limits, leaseMs);
        expect(cap).toBeGreaterThanOrEqual(1);
        for (const d of limits) {
          expect(cap === 1 || cap * d.window_seconds * 1000 <= d.limit * leaseMs).toBe(true);
        }
      }),
    );
  });
});
