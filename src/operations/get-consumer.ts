/** Read one consumer (404 for an id no consumer has; a deleted one is shown, marked deleted). */
import { type ConsumerView, toConsumerView } from "../consumers/consumer-record";
import type { AdminActor } from "./actor";
import { requireConsumer } from "./consumer-lookup";
import type { OperationContext } from "./context";

export async function getConsumer(ctx: OperationContext<AdminActor>, id: string): Promise<ConsumerView> {
  return toConsumerView((await requireConsumer(ctx, id)).record);
}
