/**
 * Reading admin requests: a JSON body within MAX_BODY_BYTES (413), JSON only (415), no property names that
 * could reach a prototype and none named twice, then validated by a schema; and query strings without
 * repeated parameters. The reading itself is src/http/json-body.ts, shared with the webhooks.
 */
import type * as z from "zod";
import {
  decodeUtf8,
  invalidField,
  parseJsonStrict,
  readBoundedBytes,
  requireJsonContentType,
  validate,
} from "../http/json-body";

/** The most bytes an admin request body may have. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Reads and validates a JSON body. Too large: 413. Not JSON: 415 or 400. Invalid: 400 `invalid_request` with
 * each problem's field path and message (never the submitted values). An absent body counts as `{}` when
 * `emptyAllowed`.
 */
export async function readJson<T extends z.ZodType>(
  request: Request,
  schema: T,
  { emptyAllowed = false } = {},
): Promise<z.output<T>> {
  const bytes = await readBoundedBytes(request, MAX_BODY_BYTES);
  let value: unknown = {};
  if (bytes.length > 0 || !emptyAllowed) {
    requireJsonContentType(request);
    value = parseJsonStrict(decodeUtf8(bytes), { refuseDuplicateKeys: true });
  }
  return validate(schema, value);
}

/**
 * Reads and validates a query string. A parameter given twice is refused (400): which one counts would
 * otherwise depend on the reader.
 */
export function readQuery<T extends z.ZodType>(url: string, schema: T): z.output<T> {
  const params = new URL(url).searchParams;
  const query: Record<string, string> = {};
  for (const [name, value] of params) {
    if (Object.hasOwn(query, name)) throw invalidField(name, "given more than once");
    query[name] = value;
  }
  return validate(schema, query);
}
