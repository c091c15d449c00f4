/**
 * Create a key: within its consumer's key policy (the consumer is created, without shared limits, if its
 * owner has none yet), mint its secret, store its hash with a create audit row, and hand it to its object.
 */
import * as z from "zod";
import type { Config } from "../config";
import { defaultLifetimeDays, keyPolicyViolations } from "../consumers/key-policy";
import { findConsumerById, keyAdmissionGate } from "../consumers/store";
import { keyViewSchema, toKeyView } from "../keys/key-record";
import { insertKey } from "../keys/store";
import { introduceKey } from "../key-change/change-key";
import { mayActOn, type KeyActor } from "./actor";
import { invalidField } from "../http/json-body";
import { ProblemError } from "../http/problem";
import { auditEntry, type OperationContext } from "./context";
import {
  consumerChangedMeanwhile,
  KEY_ADMISSION_ATTEMPTS,
  refuseViolations,
  requireActiveConsumer,
  requireRoomForKey,
} from "./key-admission";
import { checkLifetime, lifetimeOf, mintKey, secretStoreChange } from "./new-key";
import { DEFAULT_RATE_LIMITS, type createKeySchema } from "./schemas";
import { clock } from "../util/clock";
import { DAY_MS } from "../util/time";

export type CreateKeyInput = z.output<typeof createKeySchema>;

/** The new key: its secret, shown here once and never again, and the key object. */
export const createKeyResult = z.object({ api_key: z.string(), key: keyViewSchema });
export type CreateKeyResult = z.output<typeof createKeyResult>;

export async function createKey(
  ctx: OperationContext<KeyActor>,
  input: CreateKeyInput,
  config: Config,
): Promise<CreateKeyResult> {
  if (!mayActOn(ctx.actor, input.owner_id)) throw new ProblemError("consumer_not_found");
  // A consumer's own keys get its platform's limits (the policy's defaults) and carry no metadata of its making.
  if (ctx.actor.kind === "portal" && input.rate_limits !== undefined)
    throw invalidField("rate_limits", "set by your platform");
  if (ctx.actor.kind === "portal" && Object.keys(input.metadata).length > 0)
    throw invalidField("metadata", "set by your platform");
  // A lifetime asked for is checked before anything is read; the default one after the policy is known.
  if (input.expires_in_days !== undefined || input.expires_in_seconds !== undefined)
    checkLifetime(config, lifetimeOf(input, 0));
  const { expires_in_days: _days, expires_in_seconds: _seconds, rate_limits, secret_store, ...settings } = input;
  // A batch the consumer's gate stopped (it changed after it was read) is decided again on a fresh read.
  for (let attempt = 1; attempt <= KEY_ADMISSION_ATTEMPTS; attempt++) {
    const now = clock.now();
    const consumer = await findConsumerById(ctx.env.DB, input.owner_id);
    requireActiveConsumer(consumer);
    const policy = consumer?.record.key_policy ?? {};
    const lifetime = lifetimeOf(input, defaultLifetimeDays(policy));
    checkLifetime(config, lifetime);
    const minted = { ...settings, rate_limits: rate_limits ?? policy.default_rate_limits ?? DEFAULT_RATE_LIMITS };
    const violations = keyPolicyViolations(policy, minted, lifetime.ms / DAY_MS);
    refuseViolations(ctx, input.owner_id, violations, { fieldErrors: true });
    if (consumer) await requireRoomForKey(ctx, consumer.record, now);

    const { apiKey, keyHash, record } = await mintKey(config, minted, { now, lifetimeMs: lifetime.ms });
    ctx.observe?.keyId(record.id);
    const { id: _id, hint: _hint, prefix: _prefix, version: _v, lineage_id: _l, ...changes } = toKeyView(record, now);
    const audit = auditEntry(ctx, "create", now, { ...changes, ...secretStoreChange(secret_store) });
    const { inserted } = await insertKey(ctx.env.DB, record, keyHash, audit, {
      gate: keyAdmissionGate(
        ctx.env.DB,
        input.owner_id,
        consumer,
        auditEntry(ctx, "create", now, { created_for_key: record.id }),
      ),
      maxCountedKeys: policy.max_active_keys ?? null,
      now,
    });
    if (!inserted) continue;
    await introduceKey(ctx.env, record);
    return { api_key: apiKey, key: toKeyView(record, now) };
  }
  throw consumerChangedMeanwhile();
}
