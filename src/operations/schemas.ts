/**
 * The operations' inputs, as the admin API reads them (bodies and query strings), validated strictly:
 * unknown fields are errors (a typo never silently means "no restriction", and fields like `id`, `status` or
 * `usage_count` cannot be mass-assigned), every list is bounded, and allowlists and routes are parsed with
 * the same functions that enforce them. The OpenAPI document is generated from these same schemas.
 */
import * as z from "zod";
import { isOrigin } from "../config";
import {
  CONSUMER_ID_PATTERN,
  consumerRateLimitsSchema,
  keyPolicySchema,
  OWNER_ID_MESSAGE,
  OWNER_ID_PATTERN,
} from "../consumers/consumer-record";
import { KEY_ID_PATTERN, rateLimitListSchema } from "../keys/key-record";
import { parseCidr, parseIp } from "../util/ip";
import { isSupportedMethod, parseRoutePattern, SCOPE_PATTERN } from "../http/route-policy";
import { canonicalPath } from "../verify/paths";
import { ALERT_RULES } from "../monitoring/anomalies";
import { MAX_USAGE_HOURS } from "../monitoring/usage-store";
import { isCalendarDay } from "../util/time";
import { ADMIN_PERMISSIONS, adminPermissionSchema } from "./permissions";

const MAX_METADATA_BYTES = 1024;
const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;

/** The limits of a key created without `rate_limits` whose consumer's key policy names no default. */
export const DEFAULT_RATE_LIMITS = [{ name: "hour", limit: 1000, window_seconds: 3600 }];
/** A consumer id as a filter (a query parameter): any owner id, `.` and `..` included. */
const consumerIdFilter = z.string().regex(OWNER_ID_PATTERN, "1–128 characters of A-Z a-z 0-9 . _ : @ + -");

/** The settings a key carries, shared by create and update. */
const settings = {
  name: z.string().max(200).regex(PRINTABLE, "no control characters"),
  scopes: z
    .array(z.string().regex(SCOPE_PATTERN, "a scope is [a-z][a-z0-9_:.-]*"))
    .max(32)
    .transform((s) => [...new Set(s)]),
  rate_limits: rateLimitListSchema(1),
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

/** A key's lifetime; its default (365, or less under the consumer's key policy) is the operation's. */
const lifetimeDays = z
  .int()
  .min(1)
  .optional()
  .meta({ description: "default 365, or the consumer's key_policy.max_lifetime_days if lower" });

/**
 * Where the caller keeps the new key's secret, when a secret manager's tooling mints it (the Vault CLI, the
 * AWS rotation function): recorded on the audit row, for the report. The write itself happens outside the
 * Worker, so this is the caller's word, not a proof.
 */
const secretStore = z
  .enum(["vault", "aws-secrets-manager"])
  .optional()
  .meta({ description: "where the caller stores the new key's secret; recorded on the audit row" });

/** A short lifetime, for CI jobs and other automation: at least a minute, at most the lifetime bound. */
const lifetimeSeconds = z
  .int()
  .min(60)
  .optional()
  .meta({ description: "instead of expires_in_days: 60 s up to MAX_KEY_LIFETIME_DAYS (and max_lifetime_days)" });

/** The field errors of a body that gives both lifetimes: which one counts is never guessed. */
function oneLifetime(body: { expires_in_days?: number; expires_in_seconds?: number }, ctx: z.RefinementCtx): void {
  if (body.expires_in_days === undefined || body.expires_in_seconds === undefined) return;
  for (const field of ["expires_in_days", "expires_in_seconds"])
    ctx.addIssue({ code: "custom", path: [field], message: "give expires_in_days or expires_in_seconds, not both" });
}

export const createKeySchema = z
  .strictObject({
    type: z.enum(["secret", "publishable"]).default("secret"),
    environment: z.enum(["live", "test"]).default("live"),
    owner_id: z.string().regex(OWNER_ID_PATTERN, OWNER_ID_MESSAGE),
    name: settings.name.default(""),
    scopes: settings.scopes.default(["read"]),
    // Defaults that depend on the owner's consumer are applied by the operation (createKey).
    rate_limits: settings.rate_limits
      .optional()
      .meta({ description: "default: the consumer's key_policy.default_rate_limits, else hour: 1000 per 3600 s" }),
    ip_allowlist: settings.ip_allowlist.default([]),
    allowed_routes: settings.allowed_routes.default([]),
    allowed_origins: settings.allowed_origins.default([]),
    expires_in_days: lifetimeDays,
    expires_in_seconds: lifetimeSeconds,
    metadata: settings.metadata.default({}),
    secret_store: secretStore,
  })
  .superRefine((body, ctx) => {
    oneLifetime(body, ctx);
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

const gracePeriodHours = z.int().min(0).max(MAX_GRACE_PERIOD_HOURS);

/**
 * A caller's name for one rotation (an AWS `ClientRequestToken`): a retry that carries it replaces the
 * successor that rotation minted, whose secret was lost (docs/keys.md#rotation-in-steps). Not a secret.
 */
const rotationToken = z.string().regex(/^[\x21-\x7e]{1,128}$/, "1–128 visible ASCII characters");

export const rotateKeySchema = z
  .strictObject({
    grace_period_hours: gracePeriodHours.default(24),
    expires_in_days: lifetimeDays,
    expires_in_seconds: lifetimeSeconds,
    /** The old key stays fully valid, with no grace end, until POST /keys/{id}/start-grace. */
    defer_grace: z.boolean().default(false),
    rotation_token: rotationToken.optional(),
    secret_store: secretStore,
  })
  .superRefine(oneLifetime);

/** Starts a deferred grace; without hours, the ones its rotation asked for. */
export const startGraceSchema = z.strictObject({
  grace_period_hours: gracePeriodHours.optional(),
});

const limitParam = z.coerce.number().int().min(1).max(100).default(20);
const cursorParam = z.string().max(200).optional();

export const listKeysQuery = z.strictObject({
  owner_id: z.string().regex(OWNER_ID_PATTERN).optional(),
  status: z.enum(["active", "disabled", "revoked", "expired"]).optional(),
  environment: z.enum(["live", "test"]).optional(),
  q: z
    .string()
    .min(1)
    .max(200)
    .regex(PRINTABLE, "no control characters")
    .optional()
    .meta({ description: "a key id (exact), a part of the name (any case, % and _ literal) or the hint (exact)" }),
  limit: limitParam,
  cursor: cursorParam,
});

export const listAuditQuery = z.strictObject({
  key_id: z.string().regex(KEY_ID_PATTERN).optional(),
  consumer_id: z.string().regex(OWNER_ID_PATTERN).optional(),
  limit: limitParam,
  cursor: cursorParam,
});

const consumerStatus = z.enum(["active", "disabled", "deleted"]);

/** A consumer's settings, shared by create and update. */
const consumerSettings = {
  name: settings.name,
  metadata: settings.metadata,
  rate_limits: consumerRateLimitsSchema,
  key_policy: keyPolicySchema,
};

export const createConsumerSchema = z.strictObject({
  id: z.string().regex(CONSUMER_ID_PATTERN, `${OWNER_ID_MESSAGE}, and not "." or ".."`),
  name: consumerSettings.name.default(""),
  metadata: consumerSettings.metadata.default({}),
  rate_limits: consumerSettings.rate_limits.default([]),
  key_policy: consumerSettings.key_policy.default({}),
});

/** `key_policy` and `rate_limits` are replaced whole: `{}` and `[]` clear them. */
export const updateConsumerSchema = z
  .strictObject({
    name: consumerSettings.name.optional(),
    metadata: consumerSettings.metadata.optional(),
    rate_limits: consumerSettings.rate_limits.optional(),
    key_policy: consumerSettings.key_policy.optional(),
  })
  .refine((body) => Object.values(body).some((v) => v !== undefined), "nothing to change");

export const listConsumersQuery = z.strictObject({
  /** Exact match, in the owner grammar: how an owner id that is no path segment ("." or "..") is found. */
  id: z.string().regex(OWNER_ID_PATTERN, OWNER_ID_MESSAGE).optional(),
  status: consumerStatus.optional(),
  limit: limitParam,
  cursor: cursorParam,
});

export const listConsumerKeysQuery = listKeysQuery.omit({ owner_id: true });

/** For routes that take no body, or an empty JSON object. */
export const emptyBodySchema = z.strictObject({});

const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "a UTC day as YYYY-MM-DD")
  .refine(isCalendarDay, "not a calendar day");

/**
 * The usage routes' range: UTC days `from`..`to` (granularity=day, the default), or the last `hours` UTC hours
 * (granularity=hour; the hourly rollups are kept only a week). A parameter of the other granularity is
 * refused, never silently ignored.
 */
const usageRangeShape = {
  from: isoDay.optional(),
  to: isoDay.optional(),
  granularity: z
    .enum(["day", "hour"])
    .default("day")
    .meta({ description: "day: per UTC day from `from` to `to`; hour: per UTC hour, the last `hours`" }),
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_USAGE_HOURS, `at most ${MAX_USAGE_HOURS} hours (7 days)`)
    .optional()
    .meta({ description: "with granularity=hour: how many hours, the current one included (default 24)" }),
};

function refuseOtherGranularity(
  query: { granularity: "day" | "hour"; from?: string; to?: string; hours?: number },
  ctx: z.RefinementCtx,
) {
  const hourly = query.granularity === "hour";
  const fields = hourly ? (["from", "to"] as const) : (["hours"] as const);
  const message = hourly ? "only with granularity=day" : "only with granularity=hour";
  for (const field of fields) if (query[field] !== undefined) ctx.addIssue({ code: "custom", path: [field], message });
}

export const usageQuery = z.strictObject(usageRangeShape).superRefine(refuseOtherGranularity);

/**
 * GET /usage: a range, optionally one consumer's decisions only, and optionally grouped by consumer (then a
 * page at a time: `limit` and `cursor` mean nothing without it, and are refused; per day only).
 */
export const allUsageQuery = z
  .strictObject({
    ...usageRangeShape,
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
    refuseOtherGranularity(query, ctx);
    if (query.group_by !== undefined) {
      if (query.granularity === "hour")
        ctx.addIssue({ code: "custom", path: ["granularity"], message: "group_by=consumer is per day only" });
      return;
    }
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

/**
 * POST /keys/check: a key and, optionally, the request to decide it for. Without `path` the route checks are
 * skipped (is the key itself good?); `method` defaults to GET. A path the gateway would refuse as
 * non-canonical is a field error here.
 */
export const checkKeySchema = z
  .strictObject({
    api_key: z.string().min(1).max(512),
    method: z.string().refine(isSupportedMethod, "not a method the gateway serves").optional(),
    path: z
      .string()
      .max(4096)
      .refine((p) => canonicalPath(p) !== null, "not a canonical path starting with / (no query)")
      .optional(),
    ip: z
      .string()
      .max(64)
      .refine((ip) => parseIp(ip) !== null, "not an IP address")
      .optional(),
    origin: z.string().max(256).optional(),
  })
  .refine((body) => body.method === undefined || body.path !== undefined, {
    path: ["method"],
    message: "only with path",
  });

export const listLeakEventsQuery = z.strictObject({
  key_id: z.string().regex(KEY_ID_PATTERN).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, "not a cursor from a previous page")
    .optional(),
});

export const reportQuery = z.strictObject({ format: z.enum(["markdown", "json"]).default("markdown") });

/** The longest a scoped admin credential may live: a year. Automations get a new one well before. */
const MAX_CREDENTIAL_LIFETIME_DAYS = 365;

export const createCredentialSchema = z.strictObject({
  name: z.string().min(1).max(200).regex(PRINTABLE, "no control characters"),
  operations: z
    .array(adminPermissionSchema)
    .min(1)
    .max(ADMIN_PERMISSIONS.length)
    .refine((list) => new Set(list).size === list.length, "each operation once"),
  consumers: z
    .array(z.string().regex(CONSUMER_ID_PATTERN))
    .min(1)
    .max(100)
    .refine((list) => new Set(list).size === list.length, "each consumer once")
    .optional(),
  expires_in_days: z.int().min(1).max(MAX_CREDENTIAL_LIFETIME_DAYS),
});

export const listCredentialsQuery = z.strictObject({ limit: limitParam, cursor: cursorParam });

/** A portal link's life in minutes: long enough to follow it, short enough that a leaked one soon opens nothing. */
const PORTAL_TTL_MINUTES = { min: 5, max: 60, default: 30 };

/** Where a portal sends its consumer back: https, or http on a loopback host (local development); no credentials. */
function isReturnUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  if (url.username !== "" || url.password !== "") return false;
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}

export const createPortalSessionSchema = z.strictObject({
  consumer_id: z.string().regex(CONSUMER_ID_PATTERN, OWNER_ID_MESSAGE),
  return_url: z
    .string()
    .max(2000)
    .refine(isReturnUrl, "an https URL (or http on localhost), without credentials")
    .optional()
    .meta({ description: 'shown in the portal as "Back to <host>"' }),
  ttl_minutes: z
    .int()
    .min(PORTAL_TTL_MINUTES.min)
    .max(PORTAL_TTL_MINUTES.max)
    .default(PORTAL_TTL_MINUTES.default)
    .meta({ description: "how long the link, and the session it opens, lasts" }),
});
