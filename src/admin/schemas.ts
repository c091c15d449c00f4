/**
 * Request bodies of the admin API, validated strictly: unknown fields are errors (a typo never silently
 * means "no restriction"), every list is bounded, and allowlists and routes are parsed with the same
 * functions that enforce them.
 */
import * as z from "zod";
import { isOrigin } from "../config";
import { ProblemError } from "../http/problem";
import { parseCidr } from "../verify/network";
import { parseRoutePattern, SCOPE_PATTERN } from "../verify/routes";

/** The most bytes an admin request body may have. */
export const MAX_BODY_BYTES = 16 * 1024;
export const MAX_METADATA_BYTES = 1024;

const FORBIDDEN_OBJECT_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;

export const OWNER_ID_PATTERN = /^[A-Za-z0-9._:@+-]{1,128}$/;
export const KEY_ID_PATTERN = /^key_[0-9A-Za-z]{22}$/;

export const DEFAULT_RATE_LIMITS = [{ name: "hour", limit: 1000, window_seconds: 3600 }];

const rateLimit = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/),
  limit: z.int().min(1).max(1_000_000_000),
  window_seconds: z.int().min(1).max(366 * 86400),
});

export const createKeySchema = z
  .strictObject({
    type: z.enum(["secret", "publishable"]).default("secret"),
    environment: z.enum(["live", "test"]).default("live"),
    owner_id: z.string().regex(OWNER_ID_PATTERN, "1–128 characters of A-Z a-z 0-9 . _ : @ + -"),
    name: z.string().max(200).regex(PRINTABLE, "no control characters").default(""),
    scopes: z
      .array(z.string().regex(SCOPE_PATTERN, "a scope is [a-z][a-z0-9_:.-]*"))
      .max(32)
      .default(["read"])
      .transform((s) => [...new Set(s)]),
    rate_limits: z
      .array(rateLimit)
      .min(1)
      .max(8)
      .refine((limits) => new Set(limits.map((l) => l.name)).size === limits.length, "limit names must be unique")
      .default(DEFAULT_RATE_LIMITS),
    ip_allowlist: z
      .array(z.string().max(64).refine((c) => parseCidr(c) !== null, "not a strict CIDR (no host bits, octal, hex or zone ids)"))
      .max(100)
      .default([]),
    allowed_routes: z
      .array(z.string().max(512).refine((r) => parseRoutePattern(r) !== null, 'not a route like "GET /api/v1/public/*"'))
      .max(100)
      .default([]),
    allowed_origins: z
      .array(z.string().max(256).refine(isOrigin, "not an origin like https://app.example.com"))
      .max(50)
      .default([]),
    expires_in_days: z.int().min(1).default(365),
    metadata: z
      .record(z.string().max(64), z.unknown())
      .refine((m) => new TextEncoder().encode(JSON.stringify(m)).length <= MAX_METADATA_BYTES, "at most 1 KB as JSON")
      .default({}),
  })
  .superRefine((body, ctx) => {
    if (body.type === "publishable" && body.scopes.some((s) => s !== "read")) {
      ctx.addIssue({ code: "custom", path: ["scopes"], message: "a publishable key may only hold the read scope" });
    }
    if (body.type === "secret" && body.allowed_origins.length > 0) {
      ctx.addIssue({ code: "custom", path: ["allowed_origins"], message: "only publishable keys carry allowed_origins" });
    }
  });

export type CreateKeyBody = z.infer<typeof createKeySchema>;

export const revokeKeySchema = z.strictObject({
  reason: z.string().min(1).max(200).regex(PRINTABLE, "no control characters").optional(),
});

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
 * JSON.parse that refuses property names which could reach an object's prototype once copied
 * ("__proto__", "constructor", "prototype"), at any depth.
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
    throw new ProblemError("invalid_request", { extra: { errors: [{ path: "", message: "body is not valid JSON" }] } });
  }
  if (reserved) {
    throw new ProblemError("invalid_request", { extra: { errors: [{ path: "", message: "reserved property name" }] } });
  }
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
      throw new ProblemError("invalid_request", { extra: { errors: [{ path: "", message: "body is not UTF-8" }] } });
    }
    value = parseJsonSafely(text);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const errors = result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
    throw new ProblemError("invalid_request", { extra: { errors } });
  }
  return result.data;
}
