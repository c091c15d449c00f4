/**
 * Rotate a key: mint a successor with every setting of the key, in the same lineage (so it shares the key's
 * rate-limit counters), and let the old key work until `grace_until`. A revoked, disabled, expired or already
 * rotated key is 409 and nothing is minted; two concurrent rotations of one key yield exactly one successor
 * (the D1 batch is conditional on the predecessor being unrotated).
 */
import * as z from "zod";
import type { Config } from "../config";
import { ProblemError } from "../http/problem";
import { isLive, keyViewSchema, toKeyView } from "../keys/key-record";
import { writeRotation } from "../keys/store";
import { changeKey, introduceKey, KeyChangeFailed } from "../key-change/change-key";
import type { AdminActor } from "./actor";
import { auditEntry, type OperationContext } from "./context";
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
  ctx: OperationContext<AdminActor>,
  id: string,
  input: RotateKeyInput,
  config: Config,
): Promise<RotateKeyResult> {
  checkLifetimeDays(config, input.expires_in_days);
  const { record: old } = await requireKey(ctx.env, id);
  const now = clock.now();
  if (!isLive(old, now) || old.rotated_to !== null) throw new ProblemError("key_state_conflict");

  const { apiKey, keyHash, record: successor } = await mintKey(config, old, { now, days: input.expires_in_days }, old);
  // The grace period never extends the old key's life.
  const graceUntil = Math.min(now + input.grace_period_hours * HOUR_MS, old.expires_at);
  const writeRotationAndIntroduce = async () => {
    const { rotated } = await writeRotation(ctx.env.DB, { id: old.id, graceUntil, now }, successor, keyHash, {
      predecessor: auditEntry(ctx, "rotate", now, { rotated_to: successor.id, grace_until: isoTime(graceUntil) }),
      successor: auditEntry(ctx, "rotate", now, { rotated_from: old.id }),
    });
    if (rotated) await introduceKey(ctx.env, successor);
    return rotated;
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
  if (!rotated) throw new ProblemError("key_state_conflict"); // rotated, revoked or disabled meanwhile

  return {
    api_key: apiKey,
    key: toKeyView(successor, now),
    previous: { id: old.id, grace_until: isoTime(graceUntil) },
  };
}
