/**
 * Change a consumer's settings (name, metadata, shared limits, key policy; each given one replaces the old
 * whole). D1 with its audit row, through the consumer-change protocol, so the change (a new limit) is in
 * force everywhere when this returns. A key policy governs the keys minted from now on; existing keys keep
 * what they were minted with. A deleted consumer cannot be changed: 404.
 */
import type * as z from "zod";
import { applyConsumerChange } from "./consumer-change";
import { type ConsumerView, toConsumerView } from "../consumers/consumer-record";
import { updateConsumerSettings } from "../consumers/store";
import { ProblemError } from "../http/problem";
import type { AdminActor } from "./actor";
import { requireConsumer } from "./consumer-lookup";
import { auditEntry, type OperationContext } from "./context";
import type { updateConsumerSchema } from "./schemas";
import { clock } from "../util/clock";

export type UpdateConsumerInput = z.output<typeof updateConsumerSchema>;

export async function updateConsumer(
  ctx: OperationContext<AdminActor>,
  id: string,
  input: UpdateConsumerInput,
): Promise<ConsumerView> {
  await requireConsumer(ctx, id, { deletedIsGone: true });
  const { changed } = await applyConsumerChange(ctx, id, () =>
    updateConsumerSettings(ctx.env.DB, id, input, auditEntry(ctx, "update", clock.now(), input)),
  );
  // Nothing matched: it was deleted since it was read.
  if (!changed) throw new ProblemError("consumer_not_found");
  return toConsumerView((await requireConsumer(ctx, id)).record);
}
