/**
 * Reading the bodies of the leak routes: bounded before parsing (413, even without a Content-Length), UTF-8,
 * JSON without prototype-reaching property names. Reports are larger than admin bodies, so each route
 * passes its own bound.
 */
import { ProblemError } from "../http/problem";
import { invalidField } from "../admin/body";

const FORBIDDEN_OBJECT_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** The raw bytes of a body, or 413 as soon as it passes `limit`. */
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

/** UTF-8 text of the bytes, or 400. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalidField("", "body is not UTF-8");
  }
}

/** JSON.parse that refuses `__proto__`, `constructor` and `prototype` as property names, or 400. */
export function parseJsonStrict(text: string): unknown {
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
  return value;
}

/** The request's JSON body, or 413/415/400. */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const type = request.headers.get("Content-Type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new ProblemError("unsupported_media_type");
  return parseJsonStrict(decodeUtf8(await readBoundedBytes(request, limit)));
}
