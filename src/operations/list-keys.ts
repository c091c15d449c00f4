/**
 * List keys newest first, with cursor pagination. Filters are bound as parameters; the order is fixed (no
 * caller-chosen sort). Cursors are opaque to callers.
 */
import * as z from "zod";
import { invalidField } from "../http/json-body";
import { KEY_ID_SOURCE, keyViewSchema, toKeyView } from "../keys/key-record";
import { findKeysPage } from "../keys/store";
import type { AdminActor } from "./actor";
import type { OperationContext } from "./context";
import type { listKeysQuery } from "./schemas";
import { clock } from "../util/clock";

export type ListKeysInput = z.output<typeof listKeysQuery>;

/** One page of keys, and the cursor of the next (null on the last page). */
export const listKeysResult = z.object({ keys: z.array(keyViewSchema), next_cursor: z.string().nullable() });
export type ListKeysResult = z.output<typeof listKeysResult>;

/** Cursors are base64url of "created_at:id". */
export function encodeCursor(createdAt: number, id: string): string {
  return btoa(`${createdAt}:${id}`).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

const CURSOR = new RegExp(`^(\\d{1,15}):(${KEY_ID_SOURCE})$`);

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  let text = "";
  try {
    text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    throw invalidField("cursor", "not a cursor from a previous page");
  }
  const match = CURSOR.exec(text);
  if (!match) throw invalidField("cursor", "not a cursor from a previous page");
  return { createdAt: Number(match[1]), id: match[2]! };
}

export async function listKeys(ctx: OperationContext<AdminActor>, input: ListKeysInput): Promise<ListKeysResult> {
  const now = clock.now();
  const { records, next } = await findKeysPage(
    ctx.env.DB,
    {
      ownerId: input.owner_id,
      status: input.status,
      environment: input.environment,
      limit: input.limit,
      cursor: input.cursor === undefined ? undefined : decodeCursor(input.cursor),
    },
    now,
  );
  return {
    keys: records.map((r) => toKeyView(r, now)),
    next_cursor: next ? encodeCursor(next.createdAt, next.id) : null,
  };
}
