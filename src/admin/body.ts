/**
 * Reading admin request bodies: bounded before parsing (413), JSON only (415), no property names that could
 * reach a prototype, then validated by a schema (400 with each problem's field path and message, never the
 * submitted values).
 */
import type * as z from "zod";
import { ProblemError } from "../http/problem";

/** The most bytes an admin request body may have. */
export const MAX_BODY_BYTES = 16 * 1024;

const FORBIDDEN_OBJECT_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Reads a body, giving up with 413 as soon as it passes `limit` bytes (a missing Content-Length is no way round it). */
async function readBounded(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limit) throw new ProblemError("payload_too_large");
    chunks.push(chunk);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Whether a valid JSON text names one property twice in one object (compared after unescaping). JSON.parse
 * keeps the last silently, while another parser (a proxy's, a log pipeline's) may keep the first: a body
 * that two readers can read differently is refused.
 */
function hasDuplicateKey(text: string): boolean {
  const objects: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{") objects.push(new Set());
    else if (ch === "[") objects.push(null);
    else if (ch === "}" || ch === "]") objects.pop();
    else if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const literal = text.slice(i, end + 1);
      i = end;
      let next = end + 1;
      while (text[next] === " " || text[next] === "\t" || text[next] === "\n" || text[next] === "\r") next++;
      if (text[next] !== ":") continue; // a value, not a property name
      const names = objects[objects.length - 1]!;
      const name = JSON.parse(literal) as string;
      if (names.has(name)) return true;
      names.add(name);
    }
  }
  return false;
}

/**
 * JSON.parse that refuses property names which could reach an object's prototype once copied
 * ("__proto__", "constructor", "prototype"), at any depth, and a property named twice in one object.
 */
function parseJsonSafely(text: string): unknown {
  let reserved = false;
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v: unknown) => {
      if (FORBIDDEN_OBJECT_KEYS.has(key)) reserved = true;
      return v;
    });
  } catch {
    throw invalidField("", "body is not valid JSON");
  }
  if (reserved) {
    throw invalidField("", "reserved property name (__proto__, constructor, prototype)");
  }
  if (hasDuplicateKey(text)) throw invalidField("", "a property is named twice in one object");
  return value;
}

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
  const declared = Number(request.headers.get("Content-Length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new ProblemError("payload_too_large");
  const bytes = await readBounded(request.body, MAX_BODY_BYTES);
  let value: unknown = {};
  if (bytes.length > 0 || !emptyAllowed) {
    const type = request.headers.get("Content-Type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) throw new ProblemError("unsupported_media_type");
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      throw invalidField("", "body is not UTF-8");
    }
    value = parseJsonSafely(text);
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

/** Validates a value with a schema, or throws 400 `invalid_request` listing each problem by field. */
export function validate<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const errors = result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
    throw new ProblemError("invalid_request", { extra: { errors } });
  }
  return result.data;
}

/** 400 `invalid_request` for one field. */
export function invalidField(path: string, message: string): ProblemError {
  return new ProblemError("invalid_request", { extra: { errors: [{ path, message }] } });
}
