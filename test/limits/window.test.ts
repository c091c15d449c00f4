/** The limiter's arithmetic on its own: fixed windows, all-or-nothing takes, lease caps. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { leaseCap, limitStates, take, windowStartOf, type Counter } from "../../src/limits/window";
import type { RateLimit } from "../../src/keys/key-record";
import { HOUR_MS } from "../../src/util/time";

const HOUR: RateLimit = { name: "hour", limit: 5, window_seconds: 3600 };
const DAY: RateLimit = { name: "day", limit: 8, window_seconds: 86_400 };
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

describe("take", () => {
  it("grants up to the tightest remaining count, from every limit at once", () => {
    const counters = new Map<string, Counter>();
    const first = take([HOUR, DAY], counters, T0, 3);
    expect(first.granted).toBe(3);
    expect(first.states.map((s) => s.remaining)).toEqual([2, 5]);
    const second = take([HOUR, DAY], counters, T0 + 1000, 10);
    expect(second.granted).toBe(2);
    expect(second.states.map((s) => s.remaining)).toEqual([0, 3]);
  });

  it("takes nothing from any limit when one is exhausted, and says when all have room again", () => {
    const counters = new Map<string, Counter>();
    take([HOUR, DAY], counters, T0, 5);
    const refused = take([HOUR, DAY], counters, T0 + 1, 1);
    expect(refused.granted).toBe(0);
    expect("exhausted" in refused && refused.exhausted.name).toBe("hour");
    expect("retryAt" in refused && refused.retryAt).toBe(windowStartOf(T0, 3600) + HOUR_MS);
    expect(limitStates([HOUR, DAY], counters, T0 + 2).map((s) => s.remaining)).toEqual([0, 3]);
  });

  it("starts counting afresh when the window rolls over", () => {
    const counters = new Map<string, Counter>();
    take([HOUR], counters, T0, 5);
    expect(take([HOUR], counters, T0 + HOUR_MS - 1, 1).granted).toBe(0);
    expect(take([HOUR], counters, T0 + HOUR_MS, 1).granted).toBe(1);
  });

  it("retryAt is the latest reset among the exhausted limits", () => {
    const counters = new Map<string, Counter>();
    const tight: RateLimit[] = [
      { name: "minute", limit: 2, window_seconds: 60 },
      { name: "day", limit: 2, window_seconds: 86_400 },
    ];
    take(tight, counters, T0, 2);
    const refused = take(tight, counters, T0 + 5, 1);
    expect("exhausted" in refused && refused.exhausted.name).toBe("day");
  });

  it("never admits more than a limit per window, whatever the sequence of wants and times", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 20_000 }), want: fc.integer({ min: 1, max: 30 }) }), {
          maxLength: 80,
        }),
        (limit, steps) => {
          const def: RateLimit = { name: "m", limit, window_seconds: 60 };
          const counters = new Map<string, Counter>();
          const perWindow = new Map<number, number>();
          let now = T0;
          for (const { dt, want } of steps) {
            now += dt;
            const { granted } = take([def], counters, now, want);
            expect(granted).toBeLessThanOrEqual(want);
            const w = windowStartOf(now, 60);
            perWindow.set(w, (perWindow.get(w) ?? 0) + granted);
          }
          for (const admitted of perWindow.values()) expect(admitted).toBeLessThanOrEqual(limit);
        },
      ),
    );
  });
});

describe("leaseCap", () => {
  it.each([
    [[{ name: "m", limit: 5, window_seconds: 60 }], 1],
    [[{ name: "h", limit: 1000, window_seconds: 3600 }], 1],
    [[{ name: "h", limit: 1_000_000, window_seconds: 3600 }], 277],
    [
      [
        { name: "s", limit: 10, window_seconds: 1 },
        { name: "h", limit: 1_000_000, window_seconds: 3600 },
      ],
      10,
    ],
  ])("caps %j at %i tokens per one-second lease", (limits, cap) => {
    expect(leaseCap(limits, 1000)).toBe(cap);
  });
});
