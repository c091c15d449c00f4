/**
 * Disable and enable a consumer. Every key of a disabled consumer is refused `consumer_disabled`, everywhere,
 * from the moment the call returns (the consumer's object refuses them; see src/consumers/change-consumer.ts);
 * enable restores them. Both are idempotent. A deleted consumer is 404.
 */
import { toConsumerView, type ConsumerView } from "../consumers/consumer-record";
import { setConsumerStatus } from "../consumers/store";
import { clock } from "../util/clock";
import type { AdminActor } from "./actor";
import { applyConsumerChange } from "./consumer-change";
import { requireConsumer } from "./consumer-lookup";
import { auditEntry, type OperationContext } from "./context";

function statusChange(to: "active" | "disabled", action: "disable" | "enable") {
  return async function changeStatus(ctx: OperationContext<AdminActor>, id: string): Promise<ConsumerView> {
    await requireConsumer(ctx, id, { deletedIsGone: true });
    const now = clock.now();
    await applyConsumerChange(ctx, id, () =>
      setConsumerStatus(ctx.env.DB, id, to, auditEntry(ctx, action, now, { status: to })),
    );
    return toConsumerView((await requireConsumer(ctx, id)).record);
  };
}

export const disableConsumer = statusChange("disabled", "disable");
export const enableConsumer = statusChange("active", "enable");
