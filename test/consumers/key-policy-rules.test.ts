/** The key policy's rules on their own (src/consumers/key-policy.ts): pure, no binding. */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_LIFETIME_DAYS,
  defaultLifetimeDays,
  hasRoomForKey,
  keyPolicyViolations,
} from "../../src/consumers/key-policy";

const key = { type: "secret", environment: "live", scopes: ["read", "write"] } as const;
const violations = (policy: Parameters<typeof keyPolicyViolations>[0], days = 30, k = key) =>
  keyPolicyViolations(policy, { ...k, scopes: [...k.scopes] }, days);

describe("keyPolicyViolations", () => {
  it("an empty policy allows everything", () => {
    expect(violations({}, 10_000)).toEqual([]);
  });

  it("names each rule broken, with the field it is about", () => {
    expect(
      violations(
        {
          allowed_types: ["publishable"],
          allowed_environments: ["test"],
          allowed_scopes: ["read"],
          max_lifetime_days: 7,
        },
        8,
      ).map(({ rule, path }) => [rule, path]),
    ).toEqual([
      ["allowed_types", "type"],
      ["allowed_environments", "environment"],
      ["allowed_scopes", "scopes.1"],
      ["max_lifetime_days", null],
    ]);
  });

  it("allows what the lists name, and a lifetime equal to the cap", () => {
    expect(
      violations(
        {
          allowed_types: ["secret"],
          allowed_environments: ["live", "test"],
          allowed_scopes: ["write", "read"],
          max_lifetime_days: 30,
        },
        30,
      ),
    ).toEqual([]);
  });

  it("an empty allowed_scopes allows only keys without scopes", () => {
    expect(violations({ allowed_scopes: [] })).toHaveLength(2);
    expect(violations({ allowed_scopes: [] }, 30, { ...key, scopes: [] as unknown as ["read", "write"] })).toEqual([]);
  });

  it("the messages name the policy's values, never the request's", () => {
    const [v] = violations({ allowed_scopes: ["read"] }, 30, { ...key, scopes: ["read", "marker-scope"] as never });
    expect(v!.message).toContain("read");
    expect(v!.message).not.toContain("marker-scope");
  });
});

describe("defaultLifetimeDays and hasRoomForKey", () => {
  it("the default lifetime is lowered to the cap, never raised", () => {
    expect(defaultLifetimeDays({})).toBe(DEFAULT_LIFETIME_DAYS);
    expect(defaultLifetimeDays({ max_lifetime_days: 30 })).toBe(30);
    expect(defaultLifetimeDays({ max_lifetime_days: 1000 })).toBe(DEFAULT_LIFETIME_DAYS);
  });

  it("room for one more key while fewer than max_active_keys count", () => {
    expect(hasRoomForKey({}, 1_000_000)).toBe(true);
    expect(hasRoomForKey({ max_active_keys: 2 }, 1)).toBe(true);
    expect(hasRoomForKey({ max_active_keys: 2 }, 2)).toBe(false);
    expect(hasRoomForKey({ max_active_keys: 0 }, 0)).toBe(false);
  });
});
