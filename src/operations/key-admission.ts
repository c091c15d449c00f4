/**
 * What create and rotate share about a key's consumer: it must be active (409 `consumer_state_conflict`
 * otherwise), and the key must be within its key policy (400 for a field outside an `allowed_*` list at a
 * create, 409 `key_policy_violation` otherwise, naming the rule). Refusals change nothing and are not
 * audited: they are answered with a problem and a log line naming the consumer and the rule.
 */
import type { ConsumerRecord } from "../consumers/consumer-record";
import { hasRoomForKey, type PolicyViolation } from "../consumers/key-policy";
import type { StoredConsumer } from "../consumers/store";
import { ProblemError } from "../http/problem";
import { countCountedKeys } from "../keys/store";
import { log } from "../util/log";
import type { OperationContext } from "./context";

/** How often a create or rotation re-reads its consumer when a concurrent change beat its batch. */
export const KEY_ADMISSION_ATTEMPTS = 3;

/** 409 unless the consumer (if there is one yet) is active. */
export function requireActiveConsumer(stored: StoredConsumer | null): void {
  const status = stored?.record.status ?? "active";
  if (status !== "active") {
    throw new ProblemError("consumer_state_conflict", {
      extra: { detail: `the key's consumer is ${status}`, consumer_status: status },
    });
  }
}

function logRefusal(ctx: OperationContext, consumerId: string, rule: string): void {
  log("info", "admin.key_policy_refused", { request_id: ctx.requestId, consumer_id: consumerId, rule });
}

/**
 * Refuses a key that breaks its consumer's policy. At a create, the `allowed_*` rules are about fields of the
 * request: 400 with an error per field; every other rule (and every rule at a rotation, whose fields are the
 * old key's) is 409 `key_policy_violation` with the first rule broken.
 */
export function refuseViolations(
  ctx: OperationContext,
  consumerId: string,
  violations: readonly PolicyViolation[],
  { fieldErrors }: { fieldErrors: boolean },
): void {
  const fields = fieldErrors ? violations.filter((v) => v.path !== null) : [];
  if (fields.length > 0) {
    logRefusal(ctx, consumerId, fields[0]!.rule);
    const errors = fields.map((v) => ({ path: v.path, message: v.message }));
    throw new ProblemError("invalid_request", { extra: { errors } });
  }
  const first = violations[0];
  if (first) {
    logRefusal(ctx, consumerId, first.rule);
    const field = first.path === null ? "" : `${first.path.split(".")[0]}: `;
    throw new ProblemError("key_policy_violation", { extra: { rule: first.rule, detail: `${field}${first.message}` } });
  }
}

/** 409 `key_policy_violation` if the consumer's live keys (grace periods aside) already fill `max_active_keys`. */
export async function requireRoomForKey(ctx: OperationContext, consumer: ConsumerRecord, now: number): Promise<void> {
  const max = consumer.key_policy.max_active_keys;
  if (max === undefined) return;
  const counted = await countCountedKeys(ctx.env.DB, consumer.id, now);
  if (hasRoomForKey(consumer.key_policy, counted)) return;
  logRefusal(ctx, consumer.id, "max_active_keys");
  throw new ProblemError("key_policy_violation", {
    extra: {
      rule: "max_active_keys",
      detail: `the consumer has ${counted} live keys and key_policy.max_active_keys is ${max} (keys in a rotation grace period do not count)`,
    },
  });
}

/** The refusal when the consumer kept changing under every attempt (each re-read found it admitting the key). */
export function consumerChangedMeanwhile(): ProblemError {
  return new ProblemError("consumer_state_conflict", {
    extra: { detail: "the consumer changed while the key was being minted; retry" },
  });
}
