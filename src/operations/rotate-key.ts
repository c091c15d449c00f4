/**
 * Rotate a key: mint a successor with every setting of the key, in the same lineage (so it shares the key's
 * rate-limit counters), and let the old key work until `grace_until`. A revoked, disabled, expired or already
 * rotated key is 409 and nothing is minted; two concurrent rotations of one key yield exactly one successor
 * (the D1 batch is conditional on the state the rotation was decided on). The key's consumer must be active
 * and the successor within its key policy (`max_active_keys` aside: the successor takes the old key's place),
 * or the rotation is 409 and nothing is minted.
 *
 * For a secret manager that completes a rotation in steps (docs/keys.md#rotation-in-steps): `defer_grace`
 * leaves the old key fully valid until start-grace, and a retry carrying the rotation's `rotation_token`
 * revokes the successor it minted (its secret never reached the store) and mints a new one.
 */
import * as z from "zod";
import type { Config } from "../config";
import { defaultLifetimeDays, graceViolation, keyPolicyViolations } from "../consumers/key-policy";
import { findConsumerById, keyAdmissionGate, type StoredConsumer } from "../consumers/store";
import { ProblemError } from "../http/problem";
import { isLive, keyViewSchema, toKeyView, type KeyRecord } from "../keys/key-record";
import { findRotationState, writeRotation, type RotationBasis, type RotationState } from "../keys/rotation-store";
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
import { checkLifetime, lifetimeOf, mintKey, secretStoreChange } from "./new-key";
import type { rotateKeySchema } from "./schemas";
import { clock } from "../util/clock";
import { DAY_MS, HOUR_MS, isoTime } from "../util/time";

export type RotateKeyInput = z.output<typeof rotateKeySchema>;

/** The revoke reason of a successor replaced by a retry of its rotation (its secret was lost). */
const ROTATION_RETRIED_REASON = "rotation_retried";

/** The successor (its secret, shown here once) and when the rotated key stops working (null: deferred). */
export const rotateKeyResult = z.object({
  api_key: z.string(),
  key: keyViewSchema,
  previous: z.object({ id: z.string(), grace_until: z.iso.datetime().nullable() }),
});
export type RotateKeyResult = z.output<typeof rotateKeyResult>;

export async function rotateKey(
  ctx: OperationContext<KeyActor>,
  id: string,
  input: RotateKeyInput,
  config: Config,
): Promise<RotateKeyResult> {
  if (input.expires_in_days !== undefined || input.expires_in_seconds !== undefined)
    checkLifetime(config, lifetimeOf(input, 0));
  const { record: old } = await requireKey(ctx, id);
  // A batch the consumer's gate stopped (it changed after it was read) is decided again on a fresh read.
  for (let attempt = 1; attempt <= KEY_ADMISSION_ATTEMPTS; attempt++) {
    const now = clock.now();
    if (!isLive(old, now)) throw new ProblemError("key_state_conflict");
    const state = await findRotationState(ctx.env.DB, old.id, now);
    const basis = state && rotationBasis(old, state, input);
    if (!basis) throw new ProblemError("key_state_conflict"); // already rotated
    const consumer = await findConsumerById(ctx.env.DB, old.owner_id);
    requireActiveConsumer(consumer);
    // No max_active_keys here: the successor takes the place of the key it replaces.
    const policy = consumer?.record.key_policy ?? {};
    const lifetime = lifetimeOf(input, defaultLifetimeDays(policy));
    checkLifetime(config, lifetime);
    const grace = graceViolation(policy, input.grace_period_hours);
    refuseViolations(ctx, old.owner_id, grace ? [grace] : [], { fieldErrors: true });
    const violations = keyPolicyViolations(policy, old, lifetime.ms / DAY_MS);
    refuseViolations(ctx, old.owner_id, violations, { fieldErrors: false });

    const outcome = await writeSuccessor(ctx, old, consumer, { now, lifetimeMs: lifetime.ms, basis, input }, config);
    if (outcome === "gated") continue;
    if (outcome === "conflict") throw new ProblemError("key_state_conflict"); // rotated, revoked or disabled meanwhile
    return outcome;
  }
  throw consumerChangedMeanwhile();
}

/**
 * Whether the key may be rotated now, and on what basis (see RotationBasis); null if it is already rotated:
 * a successor is live (or the grace started) and the request is no retry of that rotation.
 */
function rotationBasis(old: KeyRecord, state: RotationState, input: RotateKeyInput): RotationBasis | null {
  if (old.rotated_to === null) return { kind: "first" };
  const { successor } = state;
  const deferredWaiting = state.graceDeferredMs !== null && old.grace_until === null;
  if (deferredWaiting && successor?.status === "revoked") {
    return { kind: "after_revoked_successor", successorId: old.rotated_to };
  }
  const deferred = state.graceDeferredMs !== null;
  const retry =
    input.rotation_token !== undefined &&
    input.rotation_token === state.rotationToken &&
    // A started grace means the secret manager made the successor current: its secret exists, keep it.
    (!deferred || deferredWaiting) &&
    deferred === input.defer_grace &&
    successor?.live === true &&
    successor.rotatedTo === null;
  return retry
    ? { kind: "replace_successor", successorId: old.rotated_to, rotationToken: input.rotation_token!, deferred }
    : null;
}

/**
 * Mints the successor and writes the rotation through the key-change protocol: the result, or why nothing
 * was written (`gated`: the consumer changed since it was read; `conflict`: the key did).
 */
async function writeSuccessor(
  ctx: OperationContext<KeyActor>,
  old: KeyRecord,
  consumer: StoredConsumer | null,
  plan: { now: number; lifetimeMs: number; basis: RotationBasis; input: RotateKeyInput },
  config: Config,
): Promise<RotateKeyResult | "gated" | "conflict"> {
  const { now, lifetimeMs, basis, input } = plan;
  const { apiKey, keyHash, record: successor } = await mintKey(config, old, { now, lifetimeMs }, old);
  const graceMs = input.grace_period_hours * HOUR_MS;
  // The grace period never extends the old key's life; a retry of an immediate rotation keeps its grace end.
  const keepGrace = basis.kind === "replace_successor" && !basis.deferred;
  const graceUntil = input.defer_grace ? null : keepGrace ? old.grace_until : Math.min(now + graceMs, old.expires_at);
  const replacedId = basis.kind === "replace_successor" ? basis.successorId : null;
  const consumerAudit = auditEntry(ctx, "create", now, { created_for_key: successor.id });
  let gated = false;
  const writeRotationAndIntroduce = async () => {
    const written = await writeRotation(
      ctx.env.DB,
      {
        id: old.id,
        now,
        basis,
        graceUntil: keepGrace ? "keep" : graceUntil,
        graceDeferredMs: input.defer_grace ? graceMs : null,
        rotationToken: input.rotation_token ?? null,
      },
      successor,
      keyHash,
      {
        predecessor: auditEntry(ctx, "rotate", now, {
          rotated_to: successor.id,
          grace_until: graceUntil === null ? null : isoTime(graceUntil),
          ...(input.defer_grace ? { grace_deferred_hours: input.grace_period_hours } : {}),
          ...(input.rotation_token === undefined ? {} : { rotation_token: input.rotation_token }),
          ...(replacedId === null ? {} : { replaced_successor: replacedId }),
          ...(basis.kind === "after_revoked_successor" ? { previous_successor_revoked: basis.successorId } : {}),
          ...secretStoreChange(input.secret_store),
        }),
        successor: auditEntry(ctx, "rotate", now, { rotated_from: old.id, ...secretStoreChange(input.secret_store) }),
        replaced:
          replacedId === null
            ? null
            : {
                reason: ROTATION_RETRIED_REASON,
                audit: auditEntry(ctx, "revoke", now, {
                  status: "revoked",
                  revoke_reason: ROTATION_RETRIED_REASON,
                  replaced_by: successor.id,
                }),
              },
      },
      keyAdmissionGate(ctx.env.DB, old.owner_id, consumer, consumerAudit),
    );
    if (written.rotated) await introduceKey(ctx.env, successor);
    gated = written.gated;
    return written.rotated;
  };
  const rotate = async () =>
    (await changeKey(ctx.env, old, writeRotationAndIntroduce, { propagateIf: (r) => r })).written;
  let rotated: boolean;
  try {
    // A replaced successor is revoked in the same batch, so it goes through the protocol too: announced
    // before D1 is written and pushed after, its refusal in force when this returns.
    rotated =
      replacedId === null
        ? await rotate()
        : (await changeKey(ctx.env, { id: replacedId, lineage_id: old.lineage_id }, rotate, { propagateIf: (r) => r }))
            .written;
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
    previous: { id: old.id, grace_until: graceUntil === null ? null : isoTime(graceUntil) },
  };
}
