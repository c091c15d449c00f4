/**
 * Revoke every key of a consumer: in force for all of them when the call returns, completed key by key in
 * the background (src/consumers/revoke-keys.ts), with the progress on the consumer. Calling it again revokes
 * the keys created since, and restarts a job that stopped.
 */
import type * as z from "zod";
import { toConsumerView, type ConsumerView } from "../consumers/consumer-record";
import { markConsumerKeysRevoked } from "../consumers/store";
import { clock } from "../util/clock";
import { log } from "../util/log";
import type { AdminActor } from "./actor";
import { auditEntry, type OperationContext } from "./context";
import type { revokeKeySchema } from "./schemas";
import { applyConsumerChange } from "./consumer-change";
import { requireConsumer } from "./consumer-lookup";

export async function revokeConsumerKeys(
  ctx: OperationContext<AdminActor>,
  id: string,
  input: z.output<typeof revokeKeySchema>,
): Promise<ConsumerView> {
  await requireConsumer(ctx, id, { deletedIsGone: true });
  const now = clock.now();
  const reason = input.reason ?? null;
  await applyConsumerChange(ctx, id, () =>
    markConsumerKeysRevoked(ctx.env.DB, id, reason, auditEntry(ctx, "revoke_keys", now, { reason })),
  );
  try {
    await ctx.env.CONSUMER_OBJECT.get(ctx.env.CONSUMER_OBJECT.idFromName(id)).startRevokeKeys(id);
  } catch (error) {
    // The keys are refused already; calling again starts the job.
    log("error", "consumer.revoke_job_not_started", { consumer_id: id, error: (error as Error).name });
  }
  return toConsumerView((await requireConsumer(ctx, id)).record);
}
