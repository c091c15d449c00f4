/**
 * Reading request bodies, for every route that takes one (admin, leak webhooks and reports): bounded before
 * parsing (413, even without a Content-Length), UTF-8, JSON without prototype-reaching property names, then
 * validated by a schema (400 with each problem's field path and message, never the submitted values). Each
 * caller passes its own bound: reports are larger than admin bodies.
 */
import type * as z from "zod";
import { ProblemError } from "./problem";

const FORBIDDEN_OBJECT_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** The raw bytes of a body, or 413 as soon as it passes `limit` (a missing Content-Length is no way round it). */
export async function readBoundedBytes(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("Content-Length") ?? "0");
  if (declared > limit) throw new ProblemError("payload_too_large");
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body) {
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

/** 415 unless the request says its body is JSON. */
export function requireJsonContentType(request: Request): void {
  const type = request.headers.get("Content-Type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new ProblemError("unsupported_media_type");
}

/** UTF-8 text of the bytes, or 400. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalidField("", "body is not UTF-8");
  }
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
 * JSON.parse that refuses, with 400, property names which could reach an object's prototype once copied
 * (`__proto__`, `constructor`, `prototype`) at any depth, and with `refuseDuplicateKeys` a property named
 * twice in one object.
 */
export function parseJsonStrict(text: string, { refuseDuplicateKeys = false } = {}): unknown {
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
  if (reserved) throw invalidField("", "reserved property name (__proto__, constructor, prototype)");
  if (refuseDuplicateKeys && hasDuplicateKey(text)) throw invalidField("", "a property is named twice in one object");
  return value;
}

/** The request's JSON body, or 415 (checked first), 413 or 400. */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  requireJsonContentType(request);
  return parseJsonStrict(decodeUtf8(await readBoundedBytes(request, limit)));
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
