/**
 * A consumer's key policy applied to a key about to be minted (created, or a rotation's successor): pure
 * functions, so each rule is tested on its own. The operations turn what they find into refusals.
 */
import type { KeyRecord } from "../keys/key-record";
import type { KeyPolicy } from "./consumer-record";

/** The lifetime of a key minted without `expires_in_days`, unless its consumer's policy allows less. */
export const DEFAULT_LIFETIME_DAYS = 365;

/** One rule a key would break, with the field of the request it is about (null: not one field). */
export interface PolicyViolation {
  rule: keyof KeyPolicy;
  /** The field path, as in a 400's `errors` (`scopes.1`), for the `allowed_*` rules. */
  path: string | null;
  message: string;
}

/** The lifetime in days of a key minted without one: the default, lowered to the policy's cap. */
export function defaultLifetimeDays(policy: KeyPolicy): number {
  return Math.min(DEFAULT_LIFETIME_DAYS, policy.max_lifetime_days ?? DEFAULT_LIFETIME_DAYS);
}

const listed = (values: readonly string[]) => values.join(", ") || "none";

/**
 * What a key with these settings and this lifetime would break of the policy, in the order of its fields;
 * empty if nothing. The number of live keys is a rule of its own (`hasRoomForKey`): it needs a count.
 */
export function keyPolicyViolations(
  policy: KeyPolicy,
  key: Pick<KeyRecord, "type" | "environment" | "scopes">,
  lifetimeDays: number,
): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  if (policy.allowed_types && !policy.allowed_types.includes(key.type)) {
    violations.push({
      rule: "allowed_types",
      path: "type",
      message: `not among the consumer's allowed_types (${listed(policy.allowed_types)})`,
    });
  }
  if (policy.allowed_environments && !policy.allowed_environments.includes(key.environment)) {
    violations.push({
      rule: "allowed_environments",
      path: "environment",
      message: `not among the consumer's allowed_environments (${listed(policy.allowed_environments)})`,
    });
  }
  const allowedScopes = policy.allowed_scopes;
  if (allowedScopes) {
    key.scopes.forEach((scope, i) => {
      if (!allowedScopes.includes(scope)) {
        violations.push({
          rule: "allowed_scopes",
          path: `scopes.${i}`,
          message: `not among the consumer's allowed_scopes (${listed(allowedScopes)})`,
        });
      }
    });
  }
  if (policy.max_lifetime_days !== undefined && lifetimeDays > policy.max_lifetime_days) {
    violations.push({
      rule: "max_lifetime_days",
      path: null,
      message: `a key of this consumer lives at most ${policy.max_lifetime_days} days (key_policy.max_lifetime_days)`,
    });
  }
  return violations;
}

/** What a rotation's grace period breaks of the policy (`max_grace_hours`), or null if nothing. */
export function graceViolation(policy: KeyPolicy, graceHours: number): PolicyViolation | null {
  if (policy.max_grace_hours === undefined || graceHours <= policy.max_grace_hours) return null;
  return {
    rule: "max_grace_hours",
    path: "grace_period_hours",
    message: `a rotated key of this consumer keeps working at most ${policy.max_grace_hours} hours (key_policy.max_grace_hours)`,
  };
}

/**
 * Whether one more key fits under `max_active_keys`, given how many of the consumer's keys count (live and
 * not in a rotation grace period).
 */
export function hasRoomForKey(policy: KeyPolicy, countedKeys: number): boolean {
  return policy.max_active_keys === undefined || countedKeys < policy.max_active_keys;
}
