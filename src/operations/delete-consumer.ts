/**
 * Delete a consumer: only once every key of it is revoked (409 `consumer_has_keys` otherwise, and nothing is
 * written). The row stays, marked deleted with its time, for the audit trail; its id is never reused.
 * Idempotent: deleting a deleted consumer answers it as it is and writes no second audit row.
 */
import { applyConsumerChange } from "./consumer-change";
import { type ConsumerView, toConsumerView } from "../consumers/consumer-record";
import { markConsumerDeleted } from "../consumers/store";
import { ProblemError } from "../http/problem";
import type { AdminActor } from "./actor";
import { requireConsumer } from "./consumer-lookup";
import { auditEntry, type OperationContext } from "./context";
import { clock } from "../util/clock";

export async function deleteConsumer(ctx: OperationContext<AdminActor>, id: string): Promise<ConsumerView> {
  const before = await requireConsumer(ctx, id);
  if (before.record.status === "deleted") return toConsumerView(before.record);
  const { deleted } = await applyConsumerChange(ctx, id, () =>
    markConsumerDeleted(ctx.env.DB, id, auditEntry(ctx, "delete", clock.now(), { status: "deleted" })),
  );
  const after = await requireConsumer(ctx, id);
  // Nothing matched and it is not deleted (by a concurrent call): a key of it is not revoked.
  if (!deleted && after.record.status !== "deleted") {
    throw new ProblemError("consumer_has_keys", {
      extra: { detail: "revoke every key of the consumer first (GET /consumers/{id}/keys lists them)" },
    });
  }
  return toConsumerView(after.record);
}
