/**
 * List consumers newest first, a page at a time (keyset pagination, as for keys). `id` is an exact match in
 * the owner grammar: the way to find an owner from before consumers whose id is "." or "..", which no path
 * can name.
 */
import * as z from "zod";
import { consumerViewSchema, OWNER_ID_SOURCE, toConsumerView } from "../consumers/consumer-record";
import { findConsumersPage } from "../consumers/store";
import { consumerScope, type AdminActor } from "./actor";
import type { OperationContext } from "./context";
import { decodeCursor, encodeCursor } from "./cursor";
import type { listConsumersQuery } from "./schemas";

export type ListConsumersInput = z.output<typeof listConsumersQuery>;

/** One page of consumers, and the cursor of the next (null on the last page). */
export const listConsumersResult = z.object({
  consumers: z.array(consumerViewSchema),
  next_cursor: z.string().nullable(),
});
export type ListConsumersResult = z.output<typeof listConsumersResult>;

export async function listConsumers(
  ctx: OperationContext<AdminActor>,
  input: ListConsumersInput,
): Promise<ListConsumersResult> {
  const { records, next } = await findConsumersPage(ctx.env.DB, {
    id: input.id,
    status: input.status,
    within: consumerScope(ctx.actor) ?? undefined,
    limit: input.limit,
    cursor: input.cursor === undefined ? undefined : decodeCursor(input.cursor, OWNER_ID_SOURCE),
  });
  return { consumers: records.map(toConsumerView), next_cursor: next ? encodeCursor(next) : null };
}
