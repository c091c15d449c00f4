/**
 * GET /admin/v1/keys?owner_id=&status=&environment=&limit=&cursor= — keys newest first, with cursor
 * pagination. Filters are bound as parameters; the order is fixed (no caller-chosen sort).
 */
import { KEY_ID_SOURCE, toKeyView } from "../keys/key-record";
import { findKeysPage } from "../keys/store";
import { invalidField } from "../http/json-body";
import { readQuery } from "./read-request";
import { clock } from "../util/clock";
import { adminJson, type AdminContext } from "./context";
import { listKeysQuery } from "./schemas";

/** Cursors are opaque to callers: base64url of "created_at:id". */
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

export async function listKeys(c: AdminContext): Promise<Response> {
  const query = readQuery(c.req.url, listKeysQuery);
  const now = clock.now();
  const { records, next } = await findKeysPage(
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
    keys: records.map((r) => toKeyView(r, now)),
    next_cursor: next ? encodeCursor(next.createdAt, next.id) : null,
  });
}
