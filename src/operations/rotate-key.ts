/**
 * Rotate a key: mint a successor with every setting of the key, in the same lineage (so it shares the key's
 * rate-limit counters), and let the old key work until `grace_until`. A revoked, disabled, expired or already
 * rotated key is 409 and nothing is minted; two concurrent rotations of one key yield exactly one successor
 * (the D1 batch is conditional on the predecessor being unrotated). The key's consumer must be active and the
 * successor within its key policy (`max_active_keys` aside: the successor takes the old key's place), or the
 * rotation is 409 and nothing is minted.
 */
import * as z from "zod";
import type { Config } from "../config";
import { defaultLifetimeDays, graceViolation, keyPolicyViolations } from "../consumers/key-policy";
import { findConsumerById, keyAdmissionGate, type StoredConsumer } from "../consumers/store";
import { ProblemError } from "../http/problem";
import { isLive, keyViewSchema, toKeyView, type KeyRecord } from "../keys/key-record";
import { writeRotation } from "../keys/store";
import { changeKey, introduceKey, KeyChangeFailed } from "../key-change/change-key";
import type { KeyActor } from "./actor";
import { auditEntry, type OperationContext } from "./context";
import {
  consumerChangedMeanwhile,
  KEY_ADMISSION_ATTEMPTS,
  refuseViolations,
  requireActiveConsumer,
} from "./key-admission";
import { logKeyChangeFailure, requireKey } from "./key-change";
import { checkLifetimeDays, mintKey } from "./new-key";
import type { rotateKeySchema } from "./schemas";
import { clock } from "../util/clock";
import { HOUR_MS, isoTime } from "../util/time";

export type RotateKeyInput = z.output<typeof rotateKeySchema>;

/** The successor (its secret, shown here once) and when the rotated key stops working. */
export const rotateKeyResult = z.object({
  api_key: z.string(),
  key: keyViewSchema,
  previous: z.object({ id: z.string(), grace_until: z.iso.datetime() }),
});
export type RotateKeyResult = z.output<typeof rotateKeyResult>;

export async function rotateKey(
  ctx: OperationContext<KeyActor>,
  id: string,
  input: RotateKeyInput,
  config: Config,
): Promise<RotateKeyResult> {
  if (input.expires_in_days !== undefined) checkLifetimeDays(config, input.expires_in_days);
  const { record: old } = await requireKey(ctx, id);
  // A batch the consumer's gate stopped (it changed after it was read) is decided again on a fresh read.
  for (let attempt = 1; attempt <= KEY_ADMISSION_ATTEMPTS; attempt++) {
    const now = clock.now();
    if (!isLive(old, now) || old.rotated_to !== null) throw new ProblemError("key_state_conflict");
    const consumer = await findConsumerById(ctx.env.DB, old.owner_id);
    requireActiveConsumer(consumer);
    // No max_active_keys here: the successor takes the place of the key it replaces.
    const policy = consumer?.record.key_policy ?? {};
    const days = input.expires_in_days ?? defaultLifetimeDays(policy);
    checkLifetimeDays(config, days);
    const grace = graceViolation(policy, input.grace_period_hours);
    refuseViolations(ctx, old.owner_id, grace ? [grace] : [], { fieldErrors: true });
    refuseViolations(ctx, old.owner_id, keyPolicyViolations(policy, old, days), { fieldErrors: false });

    const outcome = await writeSuccessor(
      ctx,
      old,
      consumer,
      { now, days, graceHours: input.grace_period_hours },
      config,
    );
    if (outcome === "gated") continue;
    if (outcome === "conflict") throw new ProblemError("key_state_conflict"); // rotated, revoked or disabled meanwhile
    return outcome;
  }
  throw consumerChangedMeanwhile();
}

/**
 * Mints the successor and writes the rotation through the key-change protocol: the result, or why nothing
 * was written (`gated`: the consumer changed since it was read; `conflict`: the key did).
 */
async function writeSuccessor(
  ctx: OperationContext<KeyActor>,
  old: KeyRecord,
  consumer: StoredConsumer | null,
  times: { now: number; days: number; graceHours: number },
  config: Config,
): Promise<RotateKeyResult | "gated" | "conflict"> {
  const { now, days } = times;
  const { apiKey, keyHash, record: successor } = await mintKey(config, old, { now, days }, old);
  // The grace period never extends the old key's life.
  const graceUntil = Math.min(now + times.graceHours * HOUR_MS, old.expires_at);
  const consumerAudit = auditEntry(ctx, "create", now, { created_for_key: successor.id });
  let gated = false;
  const writeRotationAndIntroduce = async () => {
    const written = await writeRotation(
      ctx.env.DB,
      { id: old.id, graceUntil, now },
      successor,
      keyHash,
      {
        predecessor: auditEntry(ctx, "rotate", now, { rotated_to: successor.id, grace_until: isoTime(graceUntil) }),
        successor: auditEntry(ctx, "rotate", now, { rotated_from: old.id }),
      },
      keyAdmissionGate(ctx.env.DB, old.owner_id, consumer, consumerAudit),
    );
    if (written.rotated) await introduceKey(ctx.env, successor);
    gated = written.gated;
    return written.rotated;
  };
  let rotated: boolean;
  try {
    ({ written: rotated } = await changeKey(ctx.env, old, writeRotationAndIntroduce, { propagateIf: (r) => r }));
  } catch (error) {
    if (!(error instanceof KeyChangeFailed)) throw error;
    logKeyChangeFailure(ctx.requestId, old.id, error);
    if (error.step === "announce") throw new ProblemError("authorizer_unavailable", { retryAfterSeconds: 1 });
    // The successor exists and the grace end is in D1, so its secret must reach the caller: the old key's
    // object, told of the change before D1 was written, decides the old key on D1's copy until a push arrives.
    rotated = true;
  }
  if (!rotated) return gated ? "gated" : "conflict";
  return {
    api_key: apiKey,
    key: toKeyView(successor, now),
    previous: { id: old.id, grace_until: isoTime(graceUntil) },
  };
}
