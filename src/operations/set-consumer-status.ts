/**
 * Disable and enable a consumer. Every key of a disabled consumer is refused `consumer_disabled`, everywhere,
 * from the moment the call returns (the consumer's object refuses them; see src/consumers/change-consumer.ts);
 * enable restores them. Both are idempotent. A deleted consumer is 404.
 */
import { ProblemError } from "../http/problem";
import { changeConsumer } from "../consumers/change-consumer";
import { findConsumerStatus, setConsumerStatus, type ConsumerStatusView } from "../consumers/consumer-state";
import { clock } from "../util/clock";
import type { AdminActor } from "./actor";
import { auditEntry, type OperationContext } from "./context";

/** The consumer's status, or 404 `consumer_not_found` (also for a deleted one). */
export async function requireConsumerStatus(db: D1Database, id: string): Promise<ConsumerStatusView> {
  const found = await findConsumerStatus(db, id);
  if (!found || found.status === "deleted") throw new ProblemError("consumer_not_found");
  return found;
}

function statusChange(to: "active" | "disabled", action: "disable" | "enable") {
  return async function changeStatus(ctx: OperationContext<AdminActor>, id: string): Promise<ConsumerStatusView> {
    await requireConsumerStatus(ctx.env.DB, id);
    const now = clock.now();
    await changeConsumer(ctx.env, id, () =>
      setConsumerStatus(ctx.env.DB, id, to, auditEntry(ctx, action, now, { status: to })),
    );
    return requireConsumerStatus(ctx.env.DB, id);
  };
}

export const disableConsumer = statusChange("disabled", "disable");
export const enableConsumer = statusChange("active", "enable");
