/**
 * Set-based D1 statements bind a whole list as one JSON array and read it with `json_each(?)`, so a batch of
 * a thousand reports is one query, not a thousand (D1 counts queries per invocation: 1000 on paid plans).
 */

/**
 * The most bytes of JSON bound to one statement. D1 refuses a string value over 2,000,000 bytes; half that
 * leaves room for whatever the statement's other values hold. Lists of ordinary size are one array.
 */
const MAX_JSON_PARAM_BYTES = 1_000_000;

const encoder = new TextEncoder();

/**
 * The items as JSON arrays of at most `maxBytes` each (an item larger than that gets an array of its own).
 * @example for (const list of jsonArrays(hashes)) db.prepare("… IN (SELECT value FROM json_each(?))").bind(list)
 */
export function jsonArrays(items: readonly unknown[], maxBytes = MAX_JSON_PARAM_BYTES): string[] {
  const arrays: string[] = [];
  let parts: string[] = [];
  let bytes = 2;
  for (const item of items) {
    const json = JSON.stringify(item);
    const size = encoder.encode(json).length + 1;
    if (parts.length > 0 && bytes + size > maxBytes) {
      arrays.push(`[${parts.join(",")}]`);
      parts = [];
      bytes = 2;
    }
    parts.push(json);
    bytes += size;
  }
  if (parts.length > 0) arrays.push(`[${parts.join(",")}]`);
  return arrays;
}
