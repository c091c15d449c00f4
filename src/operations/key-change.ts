/**
 * What the operations that change an existing key share: reading the key (404 if there is none), making a
 * change through the key-change protocol (src/key-change/change-key.ts) and answering the key as D1 then
 * holds it, and the log line of a change that failed part-way.
 */
import { ProblemError } from "../http/problem";
import { toKeyView, type KeyRecord, type KeyView } from "../keys/key-record";
import { findKeyById } from "../keys/store";
import { changeKey, KeyChangeFailed } from "../key-change/change-key";
import { log } from "../util/log";
import { mayActOn } from "./actor";
import type { OperationContext } from "./context";

/** The key with this id, or 404 `key_not_found`: also when it belongs to a consumer the actor may not act on. */
export async function requireKey(ctx: OperationContext, id: string) {
  const found = await findKeyById(ctx.env.DB, id);
  if (!found || !mayActOn(ctx.actor, found.record.owner_id)) throw new ProblemError("key_not_found");
  return found;
}

/** The log line for a change that failed part-way, naming the step (see KeyChangeFailed). */
export function logKeyChangeFailure(requestId: string, keyId: string, error: KeyChangeFailed): void {
  const announce = error.step === "announce";
  log("error", announce ? "admin.announce_failed" : "admin.propagation_failed", {
    request_id: requestId,
    key_id: keyId,
    degraded: announce ? "key_object_unavailable" : "propagation_incomplete",
    error: error.causeName,
  });
}

/**
 * Makes a change everywhere in the order that fails closed (see changeKey: announce, D1 via `write`, re-read,
 * push) and answers the key as D1 now has it. 503 if the object cannot be told first (nothing written) or
 * the push fails (the change is in D1; retrying the operation completes it).
 */
export async function applyKeyChange(
  ctx: OperationContext,
  record: Pick<KeyRecord, "id" | "lineage_id">,
  now: number,
  write: () => Promise<unknown>,
): Promise<KeyView> {
  let current: Awaited<ReturnType<typeof changeKey>>["current"];
  try {
    ({ current } = await changeKey(ctx.env, record, write));
  } catch (error) {
    if (!(error instanceof KeyChangeFailed)) throw error;
    logKeyChangeFailure(ctx.requestId, record.id, error);
    throw new ProblemError("authorizer_unavailable", { retryAfterSeconds: 1 });
  }
  if (!current) throw new ProblemError("key_not_found");
  return toKeyView(current.record, now);
}
