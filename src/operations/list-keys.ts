/**
 * List keys newest first, with cursor pagination, optionally only those a search (`q`) finds: by id, hint or
 * a part of the name. Filters and the search are bound as parameters; the order is fixed (no caller-chosen
 * sort), so a cursor pages a search as it pages the list. Cursors are opaque to callers.
 */
import * as z from "zod";
import { KEY_ID_SOURCE, keyViewSchema, toKeyView } from "../keys/key-record";
import { findKeysPage } from "../keys/store";
import { consumerScope, type KeyActor } from "./actor";
import type { OperationContext } from "./context";
import { decodeCursor, encodeCursor } from "./cursor";
import type { listKeysQuery } from "./schemas";
import { clock } from "../util/clock";

export type ListKeysInput = z.output<typeof listKeysQuery>;

/** One page of keys, and the cursor of the next (null on the last page). */
export const listKeysResult = z.object({ keys: z.array(keyViewSchema), next_cursor: z.string().nullable() });
export type ListKeysResult = z.output<typeof listKeysResult>;

export async function listKeys(ctx: OperationContext<KeyActor>, input: ListKeysInput): Promise<ListKeysResult> {
  const now = clock.now();
  const { records, next } = await findKeysPage(
    ctx.env.DB,
    {
      ownerId: input.owner_id,
      ownersWithin: consumerScope(ctx.actor) ?? undefined,
      status: input.status,
      environment: input.environment,
      search: input.q,
      limit: input.limit,
      cursor: input.cursor === undefined ? undefined : decodeCursor(input.cursor, KEY_ID_SOURCE),
    },
    now,
  );
  return {
    keys: records.map((r) => toKeyView(r, now)),
    next_cursor: next ? encodeCursor(next) : null,
  };
}
