/**
 * The cursors of keyset-paginated lists (keys, consumers): base64url of "created_at:id", the last row of the
 * page. Opaque to callers; read back only if the id matches the list's grammar, so a forged cursor is a 400
 * and never reaches SQL as anything but a bound number and id.
 */
import { invalidField } from "../http/json-body";

export interface PageCursor {
  createdAt: number;
  id: string;
}

export function encodeCursor({ createdAt, id }: PageCursor): string {
  return btoa(`${createdAt}:${id}`).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** The cursor's position, or 400 on `cursor` unless it is one this list gave out (ids of `idSource`). */
export function decodeCursor(cursor: string, idSource: string): PageCursor {
  let text = "";
  try {
    text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    throw invalidField("cursor", "not a cursor from a previous page");
  }
  const match = new RegExp(`^(\\d{1,15}):(${idSource})$`).exec(text);
  if (!match) throw invalidField("cursor", "not a cursor from a previous page");
  return { createdAt: Number(match[1]), id: match[2]! };
}
