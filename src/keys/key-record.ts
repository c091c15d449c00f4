/**
 * A key's metadata in its three forms: the D1 row, the cached record (the same fields, parsed), and the
 * public view the admin API answers with. None of them ever holds the secret; only the row holds its hash,
 * and neither the cached record nor the view does.
 */
import * as z from "zod";
import {
  BASE62_CLASS,
  ENVIRONMENTS,
  KEY_TYPES,
  randomBase62,
  type Environment,
  type KeyType,
  type ParsedKey,
} from "./format";
import { parseCidr, type Cidr } from "../util/ip";
import { parseRoutePattern, type RoutePattern } from "../http/route-policy";
import { isoTime, isoTimeOrNull } from "../util/time";

/** One of a key's limits: at most `limit` admissions per window of `window_seconds` (see limits/window.ts). */
export interface RateLimit {
  name: string;
  limit: number;
  window_seconds: number;
}

/** The most limits a key (or a consumer) carries. */
const MAX_RATE_LIMITS = 8;

/** One limit as the admin API accepts it, for a key and for a consumer alike. */
const rateLimitSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/),
  limit: z.int().min(1).max(1_000_000_000),
  window_seconds: z
    .int()
    .min(1)
    .max(366 * 86400),
});

/**
 * A list of limits as the admin API accepts it: at most MAX_RATE_LIMITS, each name once. A key has at least
 * one (`min` 1); a consumer may have none (no shared limits).
 */
export const rateLimitListSchema = (min: 0 | 1) =>
  z
    .array(rateLimitSchema)
    .min(min)
    .max(MAX_RATE_LIMITS)
    .refine((limits) => new Set(limits.map((l) => l.name)).size === limits.length, "limit names must be unique");

/** Random base62 characters in a key id: 22 × log2(62) ≈ 131 bits, so ids are unguessable and never collide. */
const KEY_ID_RANDOM_LENGTH = 22;
/** A key id as a regular-expression source: `key_` and the random part. Ids are never derived from the secret. */
export const KEY_ID_SOURCE = `key_${BASE62_CLASS}{${KEY_ID_RANDOM_LENGTH}}`;
export const KEY_ID_PATTERN = new RegExp(`^${KEY_ID_SOURCE}$`);

function newKeyId(): string {
  return `key_${randomBase62(KEY_ID_RANDOM_LENGTH)}`;
}

export type StoredStatus = "active" | "disabled" | "revoked";

export interface KeyRecord {
  id: string;
  prefix: string;
  hint: string;
  type: KeyType;
  environment: Environment;
  owner_id: string;
  name: string;
  scopes: string[];
  rate_limits: RateLimit[];
  ip_allowlist: string[];
  allowed_routes: string[];
  allowed_origins: string[];
  metadata: Record<string, unknown>;
  status: StoredStatus;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
  rotated_from: string | null;
  rotated_to: string | null;
  grace_until: number | null;
  last_used_at: number | null;
  usage_count: number;
  /** Bumped by every change to the key; the key's object refuses requests decided on an older version. */
  version: number;
  /** The first key of the rotation chain: names the Durable Object that holds the chain's counters. */
  lineage_id: string;
}

/** The D1 row: the record with its JSON columns as text, plus the hash. */
export type KeyRow = {
  [K in keyof KeyRecord]: KeyRecord[K] extends string | number | null ? KeyRecord[K] : string;
} & { key_hash: string };

const JSON_COLUMNS = [
  "scopes",
  "rate_limits",
  "ip_allowlist",
  "allowed_routes",
  "allowed_origins",
  "metadata",
] as const;

export function rowToRecord(row: KeyRow): KeyRecord {
  const { key_hash: _hash, ...rest } = row;
  const record = { ...rest } as unknown as Record<string, unknown>;
  for (const column of JSON_COLUMNS) record[column] = JSON.parse(row[column]);
  return record as unknown as KeyRecord;
}

export function recordToColumns(record: KeyRecord): Record<keyof KeyRecord, string | number | null> {
  const columns = { ...record } as unknown as Record<keyof KeyRecord, string | number | null>;
  for (const column of JSON_COLUMNS) columns[column] = JSON.stringify(record[column]);
  return columns;
}

/**
 * The settings a new key is minted with; a rotation's successor takes them from its predecessor. Everything
 * else about a new key (its status, times, version, lineage) is set by `newKeyRecord`.
 */
export type MintedSettings = Pick<
  KeyRecord,
  | "type"
  | "environment"
  | "owner_id"
  | "name"
  | "scopes"
  | "rate_limits"
  | "ip_allowlist"
  | "allowed_routes"
  | "allowed_origins"
  | "metadata"
>;

/**
 * The record of a key just minted: active, unused, version 1. A rotation's successor names its predecessor
 * and joins its lineage (so it shares its rate-limit counters); any other key starts a lineage of its own.
 */
export function newKeyRecord(
  minted: Pick<ParsedKey, "prefix" | "hint">,
  settings: MintedSettings,
  times: { now: number; expiresAt: number },
  predecessor: Pick<KeyRecord, "id" | "lineage_id"> | null = null,
): KeyRecord {
  const id = newKeyId();
  const {
    type,
    environment,
    owner_id,
    name,
    scopes,
    rate_limits,
    ip_allowlist,
    allowed_routes,
    allowed_origins,
    metadata,
  } = settings;
  return {
    id,
    prefix: minted.prefix,
    hint: minted.hint,
    type,
    environment,
    owner_id,
    name,
    scopes,
    rate_limits,
    ip_allowlist,
    allowed_routes,
    allowed_origins,
    metadata,
    status: "active",
    created_at: times.now,
    expires_at: times.expiresAt,
    revoked_at: null,
    revoke_reason: null,
    rotated_from: predecessor?.id ?? null,
    rotated_to: null,
    grace_until: null,
    last_used_at: null,
    usage_count: 0,
    version: 1,
    lineage_id: predecessor?.lineage_id ?? id,
  };
}

/**
 * The "live key" rule: a key admits requests only while `effectiveStatus` says `active` (stored active, before
 * its expiry and its grace end). Its SQL form is `LIVE_KEY` in ./store.ts; the two must say the same.
 * `expired` is derived, never stored: past `expires_at`, or past the rotation grace end.
 */
export type KeyStatus = StoredStatus | "expired";

export function effectiveStatus(
  record: Pick<KeyRecord, "status" | "expires_at" | "grace_until">,
  now: number,
): KeyStatus {
  if (record.status !== "active") return record.status;
  if (now >= record.expires_at) return "expired";
  if (record.grace_until !== null && now >= record.grace_until) return "expired";
  return "active";
}

/** The refusal a key's effective status makes: null for an active key. Shared by verify and the key's object. */
export function statusRefusal(status: KeyStatus): "key_revoked" | "key_disabled" | "key_expired" | null {
  return status === "active"
    ? null
    : status === "revoked"
      ? "key_revoked"
      : status === "disabled"
        ? "key_disabled"
        : "key_expired";
}

export function isLive(record: Pick<KeyRecord, "status" | "expires_at" | "grace_until">, now: number): boolean {
  return effectiveStatus(record, now) === "active";
}

/**
 * Whether the key could admit a request again: not revoked, before its expiry and its grace end (active, or
 * disabled and able to be enabled). A lineage none of whose keys can is done with its Durable Object (the
 * scheduled retention, src/monitoring/retention.ts). Its SQL form is `mayWorkAt` in ./store.ts.
 */
export function mayWorkAgain(record: Pick<KeyRecord, "status" | "expires_at" | "grace_until">, now: number): boolean {
  return (
    record.status !== "revoked" && now < record.expires_at && (record.grace_until === null || now < record.grace_until)
  );
}

const isoInstant = z.iso.datetime();
/**
 * The admin API's view of a key: every setting, ISO times, the derived status; no secret, no hash. The fields
 * are in the record's order, so a response shaped by this schema keeps the order the view was built in.
 */
export const keyViewSchema = z.object({
  id: z.string(),
  prefix: z.string(),
  hint: z.string(),
  type: z.enum(Object.values(KEY_TYPES)),
  environment: z.enum(ENVIRONMENTS),
  owner_id: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  rate_limits: z.array(z.object({ name: z.string(), limit: z.int(), window_seconds: z.int() })),
  ip_allowlist: z.array(z.string()),
  allowed_routes: z.array(z.string()),
  allowed_origins: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  status: z.enum(["active", "disabled", "revoked", "expired"]),
  created_at: isoInstant,
  expires_at: isoInstant,
  revoked_at: isoInstant.nullable(),
  revoke_reason: z.string().nullable(),
  rotated_from: z.string().nullable(),
  rotated_to: z.string().nullable(),
  grace_until: isoInstant.nullable(),
  last_used_at: isoInstant.nullable(),
  usage_count: z.int(),
  version: z.int(),
  lineage_id: z.string(),
});
export type KeyView = z.output<typeof keyViewSchema>;

export function toKeyView(record: KeyRecord, now: number): KeyView {
  return {
    ...record,
    status: effectiveStatus(record, now),
    created_at: isoTime(record.created_at),
    expires_at: isoTime(record.expires_at),
    revoked_at: isoTimeOrNull(record.revoked_at),
    grace_until: isoTimeOrNull(record.grace_until),
    last_used_at: isoTimeOrNull(record.last_used_at),
  };
}

/**
 * A record prepared for the hot path: allowlists and routes parsed once per cache fill, not per request.
 * The `…Restricted` flags come from the stored lists, not the parsed ones, so an entry that somehow fails to
 * parse narrows what is allowed and can never widen it to "no restriction".
 */
export interface LiveKey {
  record: KeyRecord;
  /** When this copy was read from KV or D1. */
  readAt: number;
  ipRestricted: boolean;
  ipRanges: Cidr[];
  routeRestricted: boolean;
  routes: RoutePattern[];
}

export function toLiveKey(record: KeyRecord, readAt: number): LiveKey {
  return {
    record,
    readAt,
    ipRestricted: record.ip_allowlist.length > 0,
    ipRanges: record.ip_allowlist.map(parseCidr).filter((c): c is Cidr => c !== null),
    routeRestricted: record.allowed_routes.length > 0,
    routes: record.allowed_routes.map(parseRoutePattern).filter((r): r is RoutePattern => r !== null),
  };
}

/**
 * Reads a record back from the KV cache. Anything that is not exactly a record (corrupt JSON, a missing or
 * mistyped field, an old format) is a cache miss, so D1 decides: a missing field never means "valid".
 */
export function parseCachedRecord(text: string | null): KeyRecord | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const r = value as Record<string, unknown>;
  const isString = (k: string) => typeof r[k] === "string";
  const isNumber = (k: string) => typeof r[k] === "number" && Number.isFinite(r[k]);
  const isStringList = (k: string) => Array.isArray(r[k]) && (r[k] as unknown[]).every((v) => typeof v === "string");
  const ok =
    ["id", "prefix", "hint", "owner_id", "name", "lineage_id"].every(isString) &&
    isNumber("version") &&
    (r.type === "secret" || r.type === "publishable") &&
    (r.environment === "live" || r.environment === "test") &&
    (r.status === "active" || r.status === "disabled" || r.status === "revoked") &&
    isNumber("created_at") &&
    isNumber("expires_at") &&
    (r.grace_until === null || isNumber("grace_until")) &&
    ["scopes", "ip_allowlist", "allowed_routes", "allowed_origins"].every(isStringList) &&
    Array.isArray(r.rate_limits) &&
    typeof r.metadata === "object" &&
    r.metadata !== null &&
    !Array.isArray(r.metadata);
  return ok ? (r as unknown as KeyRecord) : null;
}
