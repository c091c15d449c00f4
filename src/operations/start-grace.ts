/**
 * Start the grace period of a key rotated with `defer_grace`: from now, for the hours asked here or else the
 * ones its rotation asked for (never past the key's own expiry). Called once its successor is the value
 * applications read (a secret manager's finish step). 409 `key_state_conflict` unless the key was rotated
 * with `defer_grace` and its successor is live. Idempotent: once started, a call answers the same
 * `grace_until`, writes no second audit row and pushes the key's state again, so a retry after a failure
 * part-way completes it.
 */
import type * as z from "zod";
import { ProblemError } from "../http/problem";
import { isLive, type KeyView } from "../keys/key-record";
import { findRotationState, writeGraceStart } from "../keys/rotation-store";
import type { AdminActor } from "./actor";
import { auditEntry, type OperationContext } from "./context";
import { applyKeyChange, requireKey } from "./key-change";
import type { startGraceSchema } from "./schemas";
import { clock } from "../util/clock";
import { HOUR_MS, isoTime } from "../util/time";

export type StartGraceInput = z.output<typeof startGraceSchema>;

export async function startGrace(
  ctx: OperationContext<AdminActor>,
  id: string,
  input: StartGraceInput,
): Promise<KeyView> {
  const now = clock.now();
  const { record } = await requireKey(ctx, id);
  const state = await findRotationState(ctx.env.DB, id, now);
  const successorId = record.rotated_to;
  const started = record.grace_until !== null;
  if (
    successorId === null ||
    state?.graceDeferredMs == null ||
    state.successor?.live !== true ||
    (!started && !isLive(record, now))
  ) {
    throw new ProblemError("key_state_conflict");
  }
  const graceMs = input.grace_period_hours === undefined ? state.graceDeferredMs : input.grace_period_hours * HOUR_MS;
  // The grace period never extends the old key's life.
  const graceUntil = Math.min(now + graceMs, record.expires_at);
  const view = await applyKeyChange(ctx, record, now, () =>
    writeGraceStart(
      ctx.env.DB,
      { id, successorId, graceUntil, now },
      auditEntry(ctx, "start_grace", now, { grace_until: isoTime(graceUntil), successor: successorId }),
    ),
  );
  // Not started, and nothing matched: the key or its successor changed since it was read.
  if (view.grace_until === null) throw new ProblemError("key_state_conflict");
  return view;
}
