/**
 * A consumer: the owner of keys as a record of its own (migrations/0004_consumers.sql, docs/consumers.md).
 * Its three forms, as for a key: the D1 row (JSON columns as text), the record (parsed), and the admin API's
 * view. Here too: the id grammar, and what a key policy and a consumer's shared limits may hold.
 */
import * as z from "zod";
import { SCOPE_PATTERN } from "../http/route-policy";
import { ENVIRONMENTS, KEY_TYPES } from "../keys/format";
import { type RateLimit, rateLimitListSchema } from "../keys/key-record";
import { isoTime, isoTimeOrNull } from "../util/time";

/** The owner grammar: what a key's `owner_id` has always been (so every consumer backfilled from one). */
export const OWNER_ID_SOURCE = "[A-Za-z0-9._:@+-]{1,128}";
export const OWNER_ID_PATTERN = new RegExp(`^${OWNER_ID_SOURCE}$`);
export const OWNER_ID_MESSAGE = "1–128 characters of A-Z a-z 0-9 . _ : @ + -";

/**
 * A consumer id: the owner grammar without "." and "..", which are no path segment (a URL resolves them
 * away), so every new consumer is addressable as /consumers/{id}. Owners named so before consumers existed
 * are consumers still, found with GET /consumers?id=.
 */
export const CONSUMER_ID_PATTERN = new RegExp(`^(?!\\.\\.?$)${OWNER_ID_SOURCE}$`);

const KEY_TYPE_VALUES = Object.values(KEY_TYPES);
const unique = (list: readonly unknown[]) => new Set(list).size === list.length;

/**
 * What may be minted for a consumer, by the admin API and by the consumer in its portal. Every rule is
 * optional: an absent rule restricts nothing; an empty `allowed_scopes` allows only keys without scopes.
 */
export const keyPolicySchema = z.strictObject({
  /** Live keys at once; a key in a rotation grace period does not count (its successor replaces it). */
  max_active_keys: z.int().min(0).max(1_000_000).optional(),
  allowed_scopes: z
    .array(z.string().regex(SCOPE_PATTERN, "a scope is [a-z][a-z0-9_:.-]*"))
    .max(32)
    .refine(unique, "each scope once")
    .optional(),
  allowed_types: z.array(z.enum(KEY_TYPE_VALUES)).min(1).refine(unique, "each type once").optional(),
  allowed_environments: z.array(z.enum(ENVIRONMENTS)).min(1).refine(unique, "each environment once").optional(),
  /** Caps the lifetime of a create or a rotation (`expires_in_days` or `expires_in_seconds`; lowers their default). */
  max_lifetime_days: z.int().min(1).max(3650).optional(),
  /** Caps a rotation's `grace_period_hours`: how long a rotated key of this consumer may keep working. */
  max_grace_hours: z.int().min(0).max(720).optional(),
  /** The limits of a key created without `rate_limits`. */
  default_rate_limits: rateLimitListSchema(1).optional(),
});
export type KeyPolicy = z.output<typeof keyPolicySchema>;

/** A consumer's own limits, shared by all its keys: the shape of a key's, and none at all is allowed. */
export const consumerRateLimitsSchema = rateLimitListSchema(0);

export type ConsumerStatus = "active" | "disabled" | "deleted";

export interface ConsumerRecord {
  id: string;
  name: string;
  metadata: Record<string, unknown>;
  rate_limits: RateLimit[];
  key_policy: KeyPolicy;
  status: ConsumerStatus;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  /** revoke-keys: every key created at or before this time is refused. */
  keys_revoked_before: number | null;
  revoke_reason: string | null;
  revoke_progress: Record<string, unknown> | null;
  /** Bumped by every change to the consumer. */
  version: number;
}

/** The D1 row: the record with its JSON columns as text. */
export type ConsumerRow = {
  [K in Exclude<keyof ConsumerRecord, "revoke_progress">]: ConsumerRecord[K] extends string | number | null
    ? ConsumerRecord[K]
    : string;
} & { revoke_progress: string | null };

/**
 * The record of a row. The key policy is validated again: a policy that does not parse (which only a hand
 * edit of D1 could make) throws rather than being read as "no restriction".
 */
export function rowToConsumer(row: ConsumerRow): ConsumerRecord {
  return {
    ...row,
    metadata: JSON.parse(row.metadata),
    rate_limits: JSON.parse(row.rate_limits),
    key_policy: keyPolicySchema.parse(JSON.parse(row.key_policy)),
    revoke_progress: row.revoke_progress === null ? null : JSON.parse(row.revoke_progress),
  };
}

const limitView = z.object({ name: z.string(), limit: z.int(), window_seconds: z.int() });

/** The admin API's view of a consumer: its settings, status and times (ISO). */
export const consumerViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  rate_limits: z.array(limitView),
  key_policy: z.object({
    max_active_keys: z.int().optional(),
    allowed_scopes: z.array(z.string()).optional(),
    allowed_types: z.array(z.enum(KEY_TYPE_VALUES)).optional(),
    allowed_environments: z.array(z.enum(ENVIRONMENTS)).optional(),
    max_lifetime_days: z.int().optional(),
    max_grace_hours: z.int().optional(),
    default_rate_limits: z.array(limitView).optional(),
  }),
  status: z.enum(["active", "disabled", "deleted"]),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  deleted_at: z.iso.datetime().nullable(),
  /** revoke-keys: every key created up to this time is refused (null if it never ran). */
  keys_revoked_before: z.iso.datetime().nullable(),
  /** The per-key revocations of the last revoke-keys: how many there were, how many are left, when done. */
  revoke_progress: z.object({ total: z.int(), remaining: z.int(), done_at: z.iso.datetime().nullable() }).nullable(),
  version: z.int(),
});
export type ConsumerView = z.output<typeof consumerViewSchema>;

function progressView(progress: Record<string, unknown> | null): ConsumerView["revoke_progress"] {
  if (progress === null) return null;
  const { total, remaining, done_at } = progress as { total: number; remaining: number; done_at: number | null };
  return { total, remaining, done_at: isoTimeOrNull(done_at) };
}

export function toConsumerView(record: ConsumerRecord): ConsumerView {
  return {
    id: record.id,
    name: record.name,
    metadata: record.metadata,
    rate_limits: record.rate_limits,
    key_policy: record.key_policy,
    status: record.status,
    created_at: isoTime(record.created_at),
    updated_at: isoTime(record.updated_at),
    deleted_at: isoTimeOrNull(record.deleted_at),
    keys_revoked_before: isoTimeOrNull(record.keys_revoked_before),
    revoke_progress: progressView(record.revoke_progress),
    version: record.version,
  };
}
