/**
 * GET /admin/v1/keys?owner_id=&status=&environment=&limit=&cursor= — keys newest first, with cursor
 * pagination. Filters are bound as parameters; the order is fixed (no caller-chosen sort).
 */
import { toKeyObject } from "../keys/record";
import { listKeys as listKeysInD1 } from "../keys/store";
import { clock } from "../util/clock";
import { invalidField } from "../http/body";
import { readQuery } from "./body";
import { adminJson, type AdminContext } from "./context";
import { listKeysQuery } from "./schemas";

/** Cursors are opaque to callers: base64url of "created_at:id". */
export function encodeCursor(createdAt: number, id: string): string {
  return btoa(`${createdAt}:${id}`).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  let text = "";
  try {
    text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    throw invalidField("cursor", "not a cursor from a previous page");
  }
  const match = /^(\d{1,15}):(key_[0-9A-Za-z]{22})$/.exec(text);
  if (!match) throw invalidField("cursor", "not a cursor from a previous page");
  return { createdAt: Number(match[1]), id: match[2]! };
}

export async function listKeys(c: AdminContext): Promise<Response> {
  const query = readQuery(c.req.url, listKeysQuery);
  const now = clock.now();
  const { records, next } = await listKeysInD1(
    c.env.DB,
    {
      ownerId: query.owner_id,
      status: query.status,
      environment: query.environment,
      limit: query.limit,
      cursor: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
    },
    now,
  );
  return adminJson(c, {
    keys: records.map((r) => toKeyObject(r, now)),
    next_cursor: next ? encodeCursor(next.createdAt, next.id) : null,
  });
}
