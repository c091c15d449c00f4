/**
 * Disable and enable a consumer. Every key of a disabled consumer is refused `consumer_disabled`, everywhere,
 * from the moment the call returns (the consumer's object refuses them; see src/consumers/change-consumer.ts);
 * enable restores them. Both are idempotent. A deleted consumer is 404.
 */
import { setConsumerStatus, type ConsumerStatusView } from "../consumers/consumer-state";
import { clock } from "../util/clock";
import type { AdminActor } from "./actor";
import { applyConsumerChange, requireConsumerStatus } from "./consumer-change";
import { auditEntry, type OperationContext } from "./context";

function statusChange(to: "active" | "disabled", action: "disable" | "enable") {
  return async function changeStatus(ctx: OperationContext<AdminActor>, id: string): Promise<ConsumerStatusView> {
    await requireConsumerStatus(ctx.env.DB, id);
    const now = clock.now();
    await applyConsumerChange(ctx, id, () =>
      setConsumerStatus(ctx.env.DB, id, to, auditEntry(ctx, action, now, { status: to })),
    );
    return requireConsumerStatus(ctx.env.DB, id);
  };
}

export const disableConsumer = statusChange("disabled", "disable");
export const enableConsumer = statusChange("active", "enable");
