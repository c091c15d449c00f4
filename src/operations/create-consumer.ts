/**
 * Create a consumer with its settings (shared limits, key policy) and a create audit row. An id any consumer
 * has, or had (a deleted one's row stays), is 409 `consumer_exists`, and nothing is written.
 */
import type * as z from "zod";
import { type ConsumerView, toConsumerView } from "../consumers/consumer-record";
import { insertConsumer } from "../consumers/store";
import { ProblemError } from "../http/problem";
import { mayActOn, type AdminActor } from "./actor";
import { requireConsumer } from "./consumer-lookup";
import { auditEntry, type OperationContext } from "./context";
import type { createConsumerSchema } from "./schemas";
import { clock } from "../util/clock";

export type CreateConsumerInput = z.output<typeof createConsumerSchema>;

export async function createConsumer(
  ctx: OperationContext<AdminActor>,
  input: CreateConsumerInput,
): Promise<ConsumerView> {
  const { id, ...settings } = input;
  // A principal limited to some consumers may create only those (another id is as if it could not exist).
  if (!mayActOn(ctx.actor, id)) throw new ProblemError("consumer_not_found");
  const { created } = await insertConsumer(ctx.env.DB, id, settings, auditEntry(ctx, "create", clock.now(), settings));
  if (!created) throw new ProblemError("consumer_exists");
  return toConsumerView((await requireConsumer(ctx, id)).record);
}
