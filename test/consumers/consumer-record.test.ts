/** The consumer record on its own (src/consumers/consumer-record.ts): the id grammar and reading a row. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CONSUMER_ID_PATTERN,
  type ConsumerRow,
  OWNER_ID_PATTERN,
  rowToConsumer,
  toConsumerView,
} from "../../src/consumers/consumer-record";

const OWNER_CHARS = [..."ABCXYZabcxyz0189._:@+-"];

describe("the id grammar", () => {
  it("is the owner grammar without '.' and '..'", () => {
    for (const id of [".", ".."]) {
      expect(OWNER_ID_PATTERN.test(id)).toBe(true);
      expect(CONSUMER_ID_PATTERN.test(id)).toBe(false);
    }
    for (const id of ["...", ".a", "a.", "a..b", "..a", "user@example.com", "x".repeat(128)]) {
      expect(CONSUMER_ID_PATTERN.test(id), id).toBe(true);
    }
    for (const id of ["", "a/b", "a b", "a%2e", "x".repeat(129), "a\nb", "é"]) {
      expect(CONSUMER_ID_PATTERN.test(id), id).toBe(false);
    }
  });

  it("accepts exactly the owner ids that are not dot segments (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...OWNER_CHARS), minLength: 1, maxLength: 130 }), (id) => {
        const segment = id !== "." && id !== "..";
        expect(CONSUMER_ID_PATTERN.test(id)).toBe(OWNER_ID_PATTERN.test(id) && segment);
        // What a URL keeps as one path segment is what the pattern allows.
        if (CONSUMER_ID_PATTERN.test(id)) {
          expect(new URL(`https://x/c/${encodeURIComponent(id)}/k`).pathname).toBe(`/c/${encodeURIComponent(id)}/k`);
        }
      }),
    );
  });
});

describe("reading a row", () => {
  const row: ConsumerRow = {
    id: "acme",
    name: "Acme",
    metadata: '{"plan":"pro"}',
    rate_limits: '[{"name":"day","limit":5,"window_seconds":86400}]',
    key_policy: '{"max_active_keys":2}',
    status: "active",
    created_at: 1,
    updated_at: 2,
    deleted_at: null,
    keys_revoked_before: null,
    revoke_reason: null,
    revoke_progress: null,
    version: 3,
  };

  it("parses the JSON columns, and the view has ISO times", () => {
    const record = rowToConsumer(row);
    expect(record).toMatchObject({ metadata: { plan: "pro" }, key_policy: { max_active_keys: 2 }, version: 3 });
    expect(toConsumerView(record)).toMatchObject({ created_at: "1970-01-01T00:00:00.001Z", deleted_at: null });
  });

  it("the migration's defaults read as no limits and no policy", () => {
    expect(rowToConsumer({ ...row, metadata: "{}", rate_limits: "[]", key_policy: "{}" })).toMatchObject({
      rate_limits: [],
      key_policy: {},
    });
  });

  it("a key policy that does not parse throws: it never reads as 'no restriction'", () => {
    for (const key_policy of ['{"max_active_keys":"2"}', '{"max_keys":2}', "[]", "null"]) {
      expect(() => rowToConsumer({ ...row, key_policy })).toThrow();
    }
  });
});
