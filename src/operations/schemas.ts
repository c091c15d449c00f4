/**
 * The operations' inputs, as the admin API reads them (bodies and query strings), validated strictly:
 * unknown fields are errors (a typo never silently means "no restriction", and fields like `id`, `status` or
 * `usage_count` cannot be mass-assigned), every list is bounded, and allowlists and routes are parsed with
 * the same functions that enforce them. The OpenAPI document is generated from these same schemas.
 */
import * as z from "zod";
import { isOrigin } from "../config";
import { KEY_ID_PATTERN } from "../keys/key-record";
import { parseCidr } from "../util/ip";
import { parseRoutePattern, SCOPE_PATTERN } from "../http/route-policy";
import { ALERT_RULES } from "../monitoring/anomalies";
import { isCalendarDay } from "../util/time";

const MAX_METADATA_BYTES = 1024;
const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;

const OWNER_ID_PATTERN = /^[A-Za-z0-9._:@+-]{1,128}$/;
/**
 * A consumer id in a path: the owner grammar without `.` and `..`, which are not safe path segments (a
 * consumer made before consumers existed may have one; it is addressed by a query parameter instead).
 */
export const CONSUMER_ID_PATTERN = /^(?!\.\.?$)[A-Za-z0-9._:@+-]{1,128}$/;
/** A consumer id as a filter (a query parameter): any owner id, `.` and `..` included. */
const consumerIdFilter = z.string().regex(OWNER_ID_PATTERN, "1–128 characters of A-Z a-z 0-9 . _ : @ + -");

const DEFAULT_RATE_LIMITS = [{ name: "hour", limit: 1000, window_seconds: 3600 }];

const rateLimit = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/),
  limit: z.int().min(1).max(1_000_000_000),
  window_seconds: z
    .int()
    .min(1)
    .max(366 * 86400),
});

/** The settings a key carries, shared by create and update. */
const settings = {
  name: z.string().max(200).regex(PRINTABLE, "no control characters"),
  scopes: z
    .array(z.string().regex(SCOPE_PATTERN, "a scope is [a-z][a-z0-9_:.-]*"))
    .max(32)
    .transform((s) => [...new Set(s)]),
  rate_limits: z
    .array(rateLimit)
    .min(1)
    .max(8)
    .refine((limits) => new Set(limits.map((l) => l.name)).size === limits.length, "limit names must be unique"),
  ip_allowlist: z
    .array(
      z
        .string()
        .max(64)
        .refine((c) => parseCidr(c) !== null, "not a strict CIDR (no host bits, octal, hex or zone ids)"),
    )
    .max(100),
  allowed_routes: z
    .array(
      z
        .string()
        .max(512)
        .refine((r) => parseRoutePattern(r) !== null, 'not a route like "GET /api/v1/public/*"'),
    )
    .max(100),
  allowed_origins: z.array(z.string().max(256).refine(isOrigin, "not an origin like https://app.example.com")).max(50),
  metadata: z
    .record(z.string().max(64), z.unknown())
    .refine((m) => new TextEncoder().encode(JSON.stringify(m)).length <= MAX_METADATA_BYTES, "at most 1 KB as JSON"),
};

/** What a key of this type may carry: issues as [field, message], empty if none. */
export function keyTypeIssues(
  type: "secret" | "publishable",
  body: { scopes?: string[]; allowed_origins?: string[] },
): [string, string][] {
  const issues: [string, string][] = [];
  if (type === "publishable" && body.scopes?.some((s) => s !== "read")) {
    issues.push(["scopes", "a publishable key may only hold the read scope"]);
  }
  if (type === "secret" && (body.allowed_origins?.length ?? 0) > 0) {
    issues.push(["allowed_origins", "only publishable keys carry allowed_origins"]);
  }
  return issues;
}

export const createKeySchema = z
  .strictObject({
    type: z.enum(["secret", "publishable"]).default("secret"),
    environment: z.enum(["live", "test"]).default("live"),
    owner_id: z.string().regex(OWNER_ID_PATTERN, "1–128 characters of A-Z a-z 0-9 . _ : @ + -"),
    name: settings.name.default(""),
    scopes: settings.scopes.default(["read"]),
    rate_limits: settings.rate_limits.default(DEFAULT_RATE_LIMITS),
    ip_allowlist: settings.ip_allowlist.default([]),
    allowed_routes: settings.allowed_routes.default([]),
    allowed_origins: settings.allowed_origins.default([]),
    expires_in_days: z.int().min(1).default(365),
    metadata: settings.metadata.default({}),
  })
  .superRefine((body, ctx) => {
    for (const [path, message] of keyTypeIssues(body.type, body))
      ctx.addIssue({ code: "custom", path: [path], message });
  });

export const updateKeySchema = z
  .strictObject({
    name: settings.name.optional(),
    scopes: settings.scopes.optional(),
    rate_limits: settings.rate_limits.optional(),
    ip_allowlist: settings.ip_allowlist.optional(),
    allowed_routes: settings.allowed_routes.optional(),
    allowed_origins: settings.allowed_origins.optional(),
    metadata: settings.metadata.optional(),
    expires_at: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((body) => Object.values(body).some((v) => v !== undefined), "nothing to change");

export const revokeKeySchema = z.strictObject({
  reason: z.string().min(1).max(200).regex(PRINTABLE, "no control characters").optional(),
});

/** The longest rotation grace period: 30 days. */
const MAX_GRACE_PERIOD_HOURS = 720;

export const rotateKeySchema = z.strictObject({
  grace_period_hours: z.int().min(0).max(MAX_GRACE_PERIOD_HOURS).default(24),
  expires_in_days: z.int().min(1).default(365),
});

const limitParam = z.coerce.number().int().min(1).max(100).default(20);
const cursorParam = z.string().max(200).optional();

export const listKeysQuery = z.strictObject({
  owner_id: z.string().regex(OWNER_ID_PATTERN).optional(),
  status: z.enum(["active", "disabled", "revoked", "expired"]).optional(),
  environment: z.enum(["live", "test"]).optional(),
  limit: limitParam,
  cursor: cursorParam,
});

export const listAuditQuery = z.strictObject({
  key_id: z.string().regex(KEY_ID_PATTERN).optional(),
  limit: limitParam,
  cursor: cursorParam,
});

/** For routes that take no body, or an empty JSON object. */
export const emptyBodySchema = z.strictObject({});

const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "a UTC day as YYYY-MM-DD")
  .refine(isCalendarDay, "not a calendar day");

export const usageQuery = z.strictObject({ from: isoDay.optional(), to: isoDay.optional() });

/**
 * GET /usage: a range, optionally one consumer's decisions only, and optionally grouped by consumer (then a
 * page at a time: `limit` and `cursor` mean nothing without it, and are refused).
 */
export const allUsageQuery = usageQuery
  .extend({
    group_by: z.enum(["consumer"]).optional(),
    consumer_id: consumerIdFilter.optional(),
    limit: z.coerce.number().int().min(1).max(100).optional(),
    cursor: z
      .string()
      .max(200)
      .regex(/^[A-Za-z0-9_-]+$/, "not a cursor from a previous page")
      .optional(),
  })
  .superRefine((query, ctx) => {
    if (query.group_by !== undefined) return;
    for (const field of ["limit", "cursor"] as const)
      if (query[field] !== undefined)
        ctx.addIssue({ code: "custom", path: [field], message: "only with group_by=consumer" });
  });

export const alertsQuery = z.strictObject({
  status: z.enum(["open", "all"]).default("all"),
  key_id: z.string().regex(KEY_ID_PATTERN).optional(),
  consumer_id: consumerIdFilter.optional(),
  rule: z.enum(ALERT_RULES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, "not a cursor from a previous page")
    .optional(),
});

export const reportQuery = z.strictObject({ format: z.enum(["markdown", "json"]).default("markdown") });
