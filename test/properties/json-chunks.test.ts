/**
 * The JSON arrays bound to set-based D1 statements (src/util/json-chunks.ts): every item once, in order, and
 * no array over the byte bound unless it holds a single item that is larger on its own.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonArrays } from "../../src/util/json-chunks";

const bytes = (text: string) => new TextEncoder().encode(text).length;
const item = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.integer(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
);

describe("jsonArrays", () => {
  it("keeps every item in order and each array within the bound", () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 200 }), fc.integer({ min: 2, max: 400 }), (items, maxBytes) => {
        const arrays = jsonArrays(items, maxBytes);
        expect(arrays.flatMap((a) => JSON.parse(a) as unknown[])).toEqual(items);
        for (const a of arrays) {
          const parsed = JSON.parse(a) as unknown[];
          expect(parsed.length).toBeGreaterThan(0);
          if (parsed.length > 1) expect(bytes(a)).toBeLessThanOrEqual(maxBytes);
        }
        if (items.length === 0) expect(arrays).toEqual([]);
      }),
    );
  });

  it("puts a batch of a thousand hashes in one array at the default bound", () => {
    const hashes = Array.from({ length: 1000 }, (_, i) => i.toString(16).padStart(64, "0"));
    expect(jsonArrays(hashes)).toHaveLength(1);
    expect(jsonArrays(hashes, 67 * 100 + 2)).toHaveLength(10);
  });
});
