/**
 * BoundedTtlCache: size bound, expiry, and `onRemove` seeing every value that leaves, so that an index kept
 * beside the cache (the key lookup's hint index) follows it exactly.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BoundedTtlCache } from "../../src/util/bounded-cache";

function tracked(maxEntries: number, ttlMs: number) {
  const removed: string[] = [];
  const cache = new BoundedTtlCache<string, string>({ maxEntries, ttlMs, onRemove: (v) => removed.push(v) });
  return { cache, removed };
}

describe("onRemove", () => {
  it("sees a replaced value, the oldest value evicted when full, an expired value when read, a deleted one, and a clear", () => {
    const { cache, removed } = tracked(2, 1000);
    cache.set("a", "a1", 0);
    cache.set("a", "a2", 0);
    expect(removed).toEqual(["a1"]);
    cache.set("b", "b1", 0);
    cache.set("c", "c1", 0); // full: "a" is the oldest insertion
    expect(removed).toEqual(["a1", "a2"]);
    expect(cache.get("b", 999)).toBe("b1");
    expect(cache.get("b", 1000)).toBeUndefined();
    expect(removed).toEqual(["a1", "a2", "b1"]);
    cache.delete("c");
    cache.delete("c"); // absent: nothing more
    expect(removed).toEqual(["a1", "a2", "b1", "c1"]);
    cache.set("d", "d1", 0);
    cache.set("e", "e1", 0);
    cache.clear();
    expect(removed.slice(4).sort()).toEqual(["d1", "e1"]);
    expect(cache.size).toBe(0);
  });

  it("keeps an index of added minus removed values equal to what the cache holds, whatever the operations", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("set" as const),
        key: fc.integer({ min: 0, max: 7 }),
        value: fc.integer({ min: 0, max: 3 }),
      }),
      fc.record({ kind: fc.constant("get" as const), key: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant("delete" as const), key: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 40 }) }),
      fc.constant({ kind: "clear" as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const index = new Map<string, number>();
        const bump = (v: string, d: number) => index.set(v, (index.get(v) ?? 0) + d);
        const cache = new BoundedTtlCache<string, string>({ maxEntries: 4, ttlMs: 50, onRemove: (v) => bump(v, -1) });
        let now = 0;
        for (const o of ops) {
          if (o.kind === "set") {
            cache.set(String(o.key), String(o.value), now);
            bump(String(o.value), 1);
          } else if (o.kind === "get") cache.get(String(o.key), now);
          else if (o.kind === "delete") cache.delete(String(o.key));
          else if (o.kind === "tick") now += o.ms;
          else cache.clear();
          const counts = [...index.values()];
          expect(counts.every((n) => n >= 0)).toBe(true);
          expect(counts.reduce((a, b) => a + b, 0)).toBe(cache.size);
          expect(cache.size).toBeLessThanOrEqual(4);
        }
      }),
    );
  });
});
