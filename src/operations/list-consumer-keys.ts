/** A consumer's keys, newest first, a page at a time: GET /keys narrowed to its owner id (404 for no consumer). */
import type * as z from "zod";
import type { KeyActor } from "./actor";
import { requireConsumer } from "./consumer-lookup";
import type { OperationContext } from "./context";
import { listKeys, type ListKeysResult } from "./list-keys";
import type { listConsumerKeysQuery } from "./schemas";

export type ListConsumerKeysInput = z.output<typeof listConsumerKeysQuery>;

export async function listConsumerKeys(
  ctx: OperationContext<KeyActor>,
  id: string,
  input: ListConsumerKeysInput,
): Promise<ListKeysResult> {
  await requireConsumer(ctx, id);
  return listKeys(ctx, { ...input, owner_id: id });
}
