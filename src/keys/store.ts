/**
 * D1, the source of truth for keys: every statement that reads or writes `api_keys` is here. Every statement
 * binds its values as parameters; every admin mutation is written in one batch (one transaction) with the
 * audit row that records it.
 */
import { auditIfChanged, auditStatement, keySubject, type AuditEntry } from "../audit/audit-log";
import { jsonArrays } from "../util/json-chunks";
import { recordToColumns, rowToRecord, type KeyRecord, type KeyRow } from "./key-record";

/** The settings an admin chooses for a key (with its expiry, what an update may change). */
const SETTING_COLUMNS = [
  "name",
  "scopes",
  "rate_limits",
  "ip_allowlist",
  "allowed_routes",
  "allowed_origins",
  "metadata",
] as const;

export const KEY_COLUMNS = [
  "id",
  "key_hash",
  "prefix",
  "hint",
  "type",
  "environment",
  "owner_id",
  ...SETTING_COLUMNS,
  "status",
  "created_at",
  "expires_at",
  "revoked_at",
  "revoke_reason",
  "rotated_from",
  "rotated_to",
  "grace_until",
  "last_used_at",
  "usage_count",
  "version",
  "lineage_id",
] as const;

const SELECT_KEY = `SELECT ${KEY_COLUMNS.join(", ")} FROM api_keys`;

/**
 * The SQL form of the "live key" rule (`isLive` in ./key-record.ts): stored active, before its expiry and its
 * grace end at the time bound as `now` (a parameter, e.g. "?1"); `of` qualifies the columns ("s.").
 */
export const liveAt = (now: string, of = "") =>
  `${of}status = 'active' AND ${of}expires_at > ${now} AND (${of}grace_until IS NULL OR ${of}grace_until > ${now})`;

/**
 * The SQL form of `mayWorkAgain` (./key-record.ts): not revoked, before its expiry and grace end at the time
 * bound as `now` (active, or disabled and able to be enabled). 1 or 0.
 */
const mayWorkAt = (now: string) =>
  `(status != 'revoked' AND expires_at > ${now} AND (grace_until IS NULL OR grace_until > ${now}))`;

/** SQL: when a key stopped (or will stop) working: its revocation, expiry or grace end, the earliest. */
const endedAt = `MIN(expires_at, COALESCE(grace_until, expires_at), CASE WHEN status = 'revoked' THEN COALESCE(revoked_at, expires_at) ELSE expires_at END)`;

/**
 * The keys of an owner that count toward its consumer's `max_active_keys`, at the time bound as `now`: live,
 * and not a rotation's predecessor in its grace period, nor one whose deferred grace waits while its
 * successor is live (the successor replaces it; see ./rotation-store.ts).
 */
const countedKeysOf = (owner: string, now: string) =>
  `(SELECT COUNT(*) FROM api_keys c WHERE c.owner_id = ${owner} AND ${liveAt(now, "c.")} AND c.grace_until IS NULL
      AND NOT EXISTS (SELECT 1 FROM api_keys s WHERE s.id = c.rotated_to AND ${liveAt(now, "s.")}))`;

/**
 * SQL: whether the owner bound as `owner` has a key that is not revoked (for a consumer's store: a consumer
 * is deleted only once every key of it is revoked, checked in the same statement).
 */
export const hasUnrevokedKey = (owner: string) =>
  `EXISTS (SELECT 1 FROM api_keys WHERE owner_id = ${owner} AND status != 'revoked')`;

/** How many keys of the owner count toward `max_active_keys` at `now`. */
export async function countCountedKeys(db: D1Database, ownerId: string, now: number): Promise<number> {
  const row = await db
    .prepare(`SELECT ${countedKeysOf("?1", "?2")} AS n`)
    .bind(ownerId, now)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * What a new key's batch is conditional on: statements of the consumer's (src/consumers/store.ts) that run
 * first, the last of which changes a row only if the consumer admits the key, and the most keys of the owner
 * that may count toward `max_active_keys` once it is in (null: no bound).
 */
export interface KeyAdmission {
  gate: D1PreparedStatement[];
  maxCountedKeys: number | null;
  now: number;
}

/**
 * Inserts a key with its audit row, in one batch. With an admission, the batch runs the consumer's gate
 * first, and the key (and its audit row) is written only if the gate matched and the owner's counted keys
 * stay within the bound, so two concurrent creates cannot both take the last place.
 */
export async function insertKey(
  db: D1Database,
  record: KeyRecord,
  keyHash: string,
  audit: AuditEntry,
  admission?: KeyAdmission,
): Promise<{ inserted: boolean }> {
  const columns = { ...recordToColumns(record), key_hash: keyHash };
  const values = KEY_COLUMNS.map((c) => columns[c]);
  const params = (from: number) => KEY_COLUMNS.map((_, i) => `?${from + i}`).join(", ");
  const insert = admission
    ? db
        .prepare(
          `INSERT INTO api_keys (${KEY_COLUMNS.join(", ")}) SELECT ${params(4)}
           WHERE changes() > 0 AND (?1 IS NULL OR ${countedKeysOf("?2", "?3")} < ?1)`,
        )
        .bind(admission.maxCountedKeys, record.owner_id, admission.now, ...values)
    : db.prepare(`INSERT INTO api_keys (${KEY_COLUMNS.join(", ")}) VALUES (${params(1)})`).bind(...values);
  const gate = admission?.gate ?? [];
  const auditRow = admission ? auditIfChanged : auditStatement;
  const results = await db.batch([...gate, insert, auditRow(db, keySubject(record.id), audit)]);
  return { inserted: (results[gate.length]?.meta.changes ?? 0) > 0 };
}

export async function findKeyByHash(db: D1Database, keyHash: string): Promise<KeyRecord | null> {
  const row = await db.prepare(`${SELECT_KEY} WHERE key_hash = ?`).bind(keyHash).first<KeyRow>();
  return row ? rowToRecord(row) : null;
}

/**
 * The keys among these hashes, by hash: one statement per MAX_JSON_PARAM_BYTES of hashes (about 14,000), for
 * batches such as leak reports where most hashes are no key at all.
 */
export async function findKeysByHashes(db: D1Database, keyHashes: readonly string[]): Promise<Map<string, KeyRecord>> {
  const found = new Map<string, KeyRecord>();
  if (keyHashes.length === 0) return found;
  const statements = jsonArrays([...new Set(keyHashes)]).map((list) =>
    db.prepare(`${SELECT_KEY} WHERE key_hash IN (SELECT value FROM json_each(?))`).bind(list),
  );
  for (const { results } of await db.batch<KeyRow>(statements)) {
    for (const row of results) found.set(row.key_hash, rowToRecord(row));
  }
  return found;
}

/** The record and its hash (the hash names the key's cache entries; it never leaves the Worker). */
export async function findKeyById(db: D1Database, id: string): Promise<{ record: KeyRecord; keyHash: string } | null> {
  const row = await db.prepare(`${SELECT_KEY} WHERE id = ?`).bind(id).first<KeyRow>();
  return row ? { record: rowToRecord(row), keyHash: row.key_hash } : null;
}

/** Runs a conditional change and its audit row in one batch; `changed` says whether the change matched. */
async function changeWithAudit(
  db: D1Database,
  change: D1PreparedStatement,
  keyId: string,
  audit: AuditEntry,
): Promise<{ changed: boolean }> {
  const [result] = await db.batch([change, auditIfChanged(db, keySubject(keyId), audit)]);
  return { changed: (result?.meta.changes ?? 0) > 0 };
}

/**
 * Marks a key revoked. Idempotent: a key already revoked keeps its first revocation time and reason, and no
 * second audit row is written.
 */
export function markKeyRevoked(db: D1Database, id: string, reason: string | null, audit: AuditEntry) {
  const update = db
    .prepare(
      "UPDATE api_keys SET status = 'revoked', revoked_at = ?, revoke_reason = ?, version = version + 1 WHERE id = ? AND status != 'revoked'",
    )
    .bind(audit.at, reason, id);
  return changeWithAudit(db, update, id, audit);
}

/** Moves a key from one stored status to another (disable: active → disabled; enable: the reverse). */
export function setKeyStatus(
  db: D1Database,
  id: string,
  from: "active" | "disabled",
  to: "active" | "disabled",
  audit: AuditEntry,
) {
  const update = db
    .prepare("UPDATE api_keys SET status = ?, version = version + 1 WHERE id = ? AND status = ?")
    .bind(to, id, from);
  return changeWithAudit(db, update, id, audit);
}

/** The settings an admin may change on a live key. */
const UPDATABLE_COLUMNS = [...SETTING_COLUMNS, "expires_at"] as const satisfies readonly (keyof KeyRecord)[];
export type KeySettings = Partial<Pick<KeyRecord, (typeof UPDATABLE_COLUMNS)[number]>>;

/**
 * Writes changed settings, unless the key was revoked in the meantime (`expectedVersion` guards against a
 * concurrent change: an update decided on an older version matches nothing and is retried by the caller).
 */
export function updateKeySettings(
  db: D1Database,
  id: string,
  expectedVersion: number,
  settings: KeySettings,
  audit: AuditEntry,
) {
  const columns = UPDATABLE_COLUMNS.filter((c) => settings[c] !== undefined);
  const encoded = recordToColumns(settings as KeyRecord);
  const update = db
    .prepare(
      `UPDATE api_keys SET ${columns.map((c) => `${c} = ?`).join(", ")}, version = version + 1
       WHERE id = ? AND version = ? AND status != 'revoked'`,
    )
    .bind(...columns.map((c) => encoded[c]), id, expectedVersion);
  return changeWithAudit(db, update, id, audit);
}

const LIST_STATUSES = ["active", "disabled", "revoked", "expired"] as const;
export type ListStatus = (typeof LIST_STATUSES)[number];

/** The condition for a derived status at the time bound as `now` (a parameter, like every filter value). */
const STATUS_CONDITION: Record<ListStatus, (now: string) => string> = {
  active: liveAt,
  expired: (now) => `status = 'active' AND NOT (${liveAt(now)})`,
  disabled: () => "status = 'disabled'",
  revoked: () => "status = 'revoked'",
};

/** `text` as a LIKE pattern that matches only itself: `%`, `_` and the escape character `\` escaped. */
const likeLiteral = (text: string) => text.replaceAll(/[\\%_]/g, "\\$&");

/**
 * Keys newest first, by keyset pagination on (created_at, id); `cursor` is opaque to callers. `search` finds
 * a key by its id or its hint (exactly: an id is unique, a hint is a key's last four characters, case and all)
 * or by a part of its name (LIKE, which ignores the case of ASCII letters only: SQLite's rule without ICU).
 */
export async function findKeysPage(
  db: D1Database,
  filter: {
    ownerId?: string;
    /** Only these owners' keys (a principal limited to some consumers); undefined: any owner's. */
    ownersWithin?: readonly string[];
    status?: ListStatus;
    environment?: "live" | "test";
    search?: string;
    limit: number;
    cursor?: { createdAt: number; id: string };
  },
  now: number,
): Promise<{ records: KeyRecord[]; next: { createdAt: number; id: string } | null }> {
  const conditions = [
    "(?1 IS NULL OR owner_id = ?1)",
    "(?2 IS NULL OR environment = ?2)",
    "(?3 IS NULL OR (created_at, id) < (?3, ?4))",
    "(?7 IS NULL OR owner_id IN (SELECT value FROM json_each(?7)))",
    "(?8 IS NULL OR id = ?8 OR hint = ?8 OR name LIKE ?9 ESCAPE '\\')",
  ];
  if (filter.status) conditions.push(STATUS_CONDITION[filter.status]("?5"));
  const rows = await db
    .prepare(`${SELECT_KEY} WHERE ${conditions.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ?6`)
    .bind(
      filter.ownerId ?? null,
      filter.environment ?? null,
      filter.cursor?.createdAt ?? null,
      filter.cursor?.id ?? null,
      now,
      filter.limit + 1,
      filter.ownersWithin === undefined ? null : JSON.stringify(filter.ownersWithin),
      filter.search ?? null,
      filter.search === undefined ? null : `%${likeLiteral(filter.search)}%`,
    )
    .all<KeyRow>();
  const page = rows.results.slice(0, filter.limit).map(rowToRecord);
  const last = page[page.length - 1];
  return {
    records: page,
    next: rows.results.length > filter.limit && last ? { createdAt: last.created_at, id: last.id } : null,
  };
}

/** The columns the key's Durable Object keeps of a key (its live state; see limits/key-object.ts). */
const STATE_COLUMNS = ["id", "version", "status", "expires_at", "grace_until", "rate_limits"] as const;
export type KeyStateColumns = Pick<KeyRecord, (typeof STATE_COLUMNS)[number]>;

/** A key's live state by id, for its Durable Object; null if no key has the id. */
export async function findKeyStateById(db: D1Database, id: string): Promise<KeyStateColumns | null> {
  const row = await db
    .prepare(`SELECT ${STATE_COLUMNS.join(", ")} FROM api_keys WHERE id = ?`)
    .bind(id)
    .first<Omit<KeyStateColumns, "rate_limits"> & { rate_limits: string }>();
  return row ? { ...row, rate_limits: JSON.parse(row.rate_limits) } : null;
}

/** Each key's owner and creation time, by id, for these ids (unknown ids are left out). */
export async function findKeyOwnersByIds(db: D1Database, ids: readonly string[]) {
  const { results } = await db
    .prepare("SELECT id, owner_id, created_at FROM api_keys WHERE id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(ids))
    .all<{ id: string; owner_id: string; created_at: number }>();
  return new Map(results.map((r) => [r.id, r]));
}

export type KeyCounts = Record<ListStatus | "restricted" | "admin_scope", number>;

/** How many keys have each derived status at `now`, and how many live ones are restricted or hold `admin`. */
export async function countKeys(db: D1Database, now: number): Promise<KeyCounts> {
  const live = liveAt("?1");
  const row = await db
    .prepare(
      `SELECT
         ${LIST_STATUSES.map((status) => `SUM(CASE WHEN ${STATUS_CONDITION[status]("?1")} THEN 1 ELSE 0 END) AS ${status}`).join(",\n")},
         SUM(CASE WHEN ${live} AND (ip_allowlist != '[]' OR allowed_routes != '[]' OR allowed_origins != '[]') THEN 1 ELSE 0 END) AS restricted,
         SUM(CASE WHEN ${live} AND EXISTS (SELECT 1 FROM json_each(scopes) WHERE value = 'admin') THEN 1 ELSE 0 END) AS admin_scope
       FROM api_keys`,
    )
    .bind(now)
    .first<Record<keyof KeyCounts, number | null>>();
  // SUM over no rows is NULL.
  const count = (name: keyof KeyCounts) => row?.[name] ?? 0;
  return {
    active: count("active"),
    disabled: count("disabled"),
    revoked: count("revoked"),
    expired: count("expired"),
    restricted: count("restricted"),
    admin_scope: count("admin_scope"),
  };
}

/**
 * How many consumers (not deleted) have each number of live keys, fewest first, zero included: the report's
 * keys per consumer, as a histogram (a few rows, whatever the number of consumers).
 */
export async function countConsumersByLiveKeys(
  db: D1Database,
  now: number,
): Promise<{ live_keys: number; consumers: number }[]> {
  const { results } = await db
    .prepare(
      `SELECT COALESCE(k.n, 0) AS live_keys, COUNT(*) AS consumers FROM consumers c
       LEFT JOIN (SELECT owner_id, COUNT(*) AS n FROM api_keys WHERE ${liveAt("?1")} GROUP BY owner_id) k
         ON k.owner_id = c.id
       WHERE c.status != 'deleted'
       GROUP BY 1 ORDER BY 1`,
    )
    .bind(now)
    .all<{ live_keys: number; consumers: number }>();
  return results;
}

export interface ConsumerWithStaleKeys {
  consumer_id: string;
  /** Its live keys created at or before the cut-off and not rotated since. */
  keys: number;
  oldest_created_at: number;
}

/**
 * The consumers with live keys created at or before `createdBy` that have not been rotated (a successor's
 * `created_at` is its rotation, and a key in its grace period is already replaced), oldest first, at most
 * `limit`, and how many there are in all. A deleted consumer has no live keys (it is deleted only once every
 * key is revoked), so the owners are the consumers.
 */
export async function findConsumersWithStaleKeys(
  db: D1Database,
  now: number,
  createdBy: number,
  limit: number,
): Promise<{ count: number; consumers: ConsumerWithStaleKeys[] }> {
  const { results } = await db
    .prepare(
      `SELECT owner_id AS consumer_id, COUNT(*) AS keys, MIN(created_at) AS oldest_created_at,
              COUNT(*) OVER () AS total
       FROM api_keys WHERE ${liveAt("?1")} AND rotated_to IS NULL AND created_at <= ?2
       GROUP BY owner_id ORDER BY oldest_created_at, owner_id LIMIT ?3`,
    )
    .bind(now, createdBy, limit)
    .all<ConsumerWithStaleKeys & { total: number }>();
  return {
    count: results[0]?.total ?? 0,
    consumers: results.map(({ total: _, ...row }) => row),
  };
}

/** How many stored hashes are not well-formed lowercase hex SHA-256 (the report's storage evidence). */
export async function countMalformedHashes(db: D1Database): Promise<number> {
  const row = await db
    .prepare("SELECT COUNT(*) AS n FROM api_keys WHERE length(key_hash) != 64 OR key_hash GLOB '*[^0-9a-f]*'")
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export interface ExpiringKey {
  id: string;
  owner_id: string;
  name: string;
  expires_at: number;
}

const SELECT_EXPIRING = `SELECT id, owner_id, name, expires_at FROM api_keys WHERE ${liveAt("?1")} AND expires_at <= ?2`;

/** The live keys that expire by `until`, soonest first. */
export async function listKeysExpiringBy(db: D1Database, now: number, until: number): Promise<ExpiringKey[]> {
  const { results } = await db
    .prepare(`${SELECT_EXPIRING} ORDER BY expires_at, id`)
    .bind(now, until)
    .all<ExpiringKey>();
  return results;
}

/**
 * The live keys that expire by `until` whose owner has not been told about this expiry date (no
 * `expiry_notice` mark for this `expires_at`), soonest first, at most `limit`. Only keys made to live at
 * least the notice window (`until - now`): one minted for ten minutes (a CI job's), or for any lifetime
 * shorter than the window, was given its end on purpose, and telling its owner it is expiring is noise.
 */
export async function listKeysDueExpiryNotice(
  db: D1Database,
  now: number,
  until: number,
  limit: number,
): Promise<ExpiringKey[]> {
  const { results } = await db
    .prepare(
      `${SELECT_EXPIRING} AND expires_at - created_at >= ?2 - ?1
         AND NOT EXISTS (SELECT 1 FROM key_lifecycle_marks m
                         WHERE m.key_id = api_keys.id AND m.kind = 'expiry_notice' AND m.at_time = api_keys.expires_at)
       ORDER BY expires_at LIMIT ?3`,
    )
    .bind(now, until, limit)
    .all<ExpiringKey>();
  return results;
}

/**
 * Marks (in `key_lifecycle_marks`) up to `limit` keys each that are past their expiry or their rotation
 * grace end and not yet marked so; a revoked key is never marked. Answers how many of each it marked.
 */
export async function markLapsedKeys(
  db: D1Database,
  now: number,
  limit: number,
): Promise<{ expired: number; graceEnded: number }> {
  const mark = (kind: "expired" | "grace_ended", column: "expires_at" | "grace_until") =>
    db
      .prepare(
        `INSERT OR IGNORE INTO key_lifecycle_marks (key_id, kind, marked_at, at_time)
         SELECT id, '${kind}', ?1, ${column} FROM api_keys
         WHERE status != 'revoked' AND ${column} IS NOT NULL AND ${column} <= ?1
           AND NOT EXISTS (SELECT 1 FROM key_lifecycle_marks m WHERE m.key_id = api_keys.id AND m.kind = '${kind}')
         LIMIT ?2`,
      )
      .bind(now, limit);
  const [expired, graceEnded] = await db.batch([mark("expired", "expires_at"), mark("grace_ended", "grace_until")]);
  return { expired: expired?.meta.changes ?? 0, graceEnded: graceEnded?.meta.changes ?? 0 };
}

/** Keys per usage statement: keeps each statement's JSON parameter well under D1's size limits. */
const USAGE_KEYS_PER_STATEMENT = 1_000;

/** Admissions counted for one key since the last flush, and the latest of them. */
export interface KeyUsage {
  count: number;
  lastUsedAt: number;
}

/**
 * The statements that add counted admissions to keys' `usage_count` and move `last_used_at` forward: one
 * for up to USAGE_KEYS_PER_STATEMENT keys (their counts passed as one JSON parameter), for the caller's
 * batch (the usage flush writes them in one transaction with the rollups).
 */
export function addUsageStatements(db: D1Database, usage: readonly [keyId: string, KeyUsage][]): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < usage.length; i += USAGE_KEYS_PER_STATEMENT) {
    const rows = usage.slice(i, i + USAGE_KEYS_PER_STATEMENT).map(([id, u]) => [id, u.count, u.lastUsedAt]);
    statements.push(
      db
        .prepare(
          `UPDATE api_keys SET usage_count = usage_count + u.n, last_used_at = MAX(COALESCE(last_used_at, 0), u.at)
           FROM (SELECT value ->> 0 AS id, value ->> 1 AS n, value ->> 2 AS at FROM json_each(?)) AS u
           WHERE api_keys.id = u.id`,
        )
        .bind(JSON.stringify(rows)),
    );
  }
  return statements;
}

/** A key revoked by a consumer-wide revocation, with the hash that names its cache entries. */
export interface BatchRevokedKey {
  id: string;
  key_hash: string;
}

/**
 * Revokes up to `limit` keys of a consumer created at or before `before` that are not revoked yet, each with
 * its audit row, in one D1 batch; answers the keys it revoked (empty when none is left). Keys in a rotation
 * grace period are included. Idempotent: a key already revoked keeps its first revocation.
 */
export async function revokeConsumerKeysBatch(
  db: D1Database,
  consumerId: string,
  before: number,
  reason: string | null,
  limit: number,
  audit: AuditEntry,
): Promise<BatchRevokedKey[]> {
  const { results } = await db
    .prepare(
      `SELECT id FROM api_keys WHERE owner_id = ?1 AND created_at <= ?2 AND status != 'revoked' ORDER BY id LIMIT ?3`,
    )
    .bind(consumerId, before, limit)
    .all<{ id: string }>();
  if (results.length === 0) return [];
  const ids = JSON.stringify(results.map((r) => r.id));
  const [, revoked] = await db.batch<BatchRevokedKey>([
    // The audit rows first, for the keys the update below will change (same batch: both or neither).
    db
      .prepare(
        `INSERT INTO audit_log (at, actor, action, subject_type, subject_id, consumer_id, request_id, changes)
         SELECT ?2, ?3, 'revoke', 'key', id, owner_id, ?4, ?5 FROM api_keys
         WHERE id IN (SELECT value FROM json_each(?1)) AND status != 'revoked'`,
      )
      .bind(ids, audit.at, audit.actor, audit.requestId, JSON.stringify(audit.changes)),
    db
      .prepare(
        `UPDATE api_keys SET status = 'revoked', revoked_at = ?2, revoke_reason = ?3, version = version + 1
         WHERE id IN (SELECT value FROM json_each(?1)) AND status != 'revoked'
         RETURNING id, key_hash`,
      )
      .bind(ids, audit.at, reason),
  ]);
  return revoked?.results ?? [];
}

/** A lineage none of whose keys can work again, and when its last key stopped. */
export interface EndedLineage {
  lineage_id: string;
  ended_at: number;
}

/**
 * Up to `limit` lineages none of whose keys can work again at `now` (each revoked, or past its expiry and
 * grace end: a successor still in use, or a predecessor still in its grace, keeps the lineage) whose object
 * has not been cleared since they ended, longest ended first.
 */
export async function listEndedLineages(db: D1Database, now: number, limit: number): Promise<EndedLineage[]> {
  const { results } = await db
    .prepare(
      `WITH lineages AS (
         SELECT lineage_id, MAX(${endedAt}) AS ended_at, MAX(${mayWorkAt("?1")}) AS working
         FROM api_keys GROUP BY lineage_id)
       SELECT lineage_id, ended_at FROM lineages
       WHERE working = 0 AND NOT EXISTS (SELECT 1 FROM cleared_lineages c
                                         WHERE c.lineage_id = lineages.lineage_id AND c.ended_at = lineages.ended_at)
       ORDER BY ended_at LIMIT ?2`,
    )
    .bind(now, limit)
    .all<EndedLineage>();
  return results;
}

/** Records that these lineages' objects were cleared at `now` (replacing an earlier clearing's row). */
export async function recordClearedLineages(db: D1Database, cleared: readonly EndedLineage[], now: number) {
  if (cleared.length === 0) return;
  await db
    .prepare(
      `INSERT INTO cleared_lineages (lineage_id, ended_at, cleared_at)
       SELECT value ->> 0, value ->> 1, ?2 FROM json_each(?1) WHERE true
       ON CONFLICT (lineage_id) DO UPDATE SET ended_at = excluded.ended_at, cleared_at = excluded.cleared_at`,
    )
    .bind(JSON.stringify(cleared.map((l) => [l.lineage_id, l.ended_at])), now)
    .run();
}

/**
 * Deletes up to `limit` key rows that expired before `cutoff`, with what is kept per key beside them (usage
 * rollups, networks, lifecycle marks); audit rows, leak events and alerts stay. A row goes only once its
 * lineage's object was cleared, or while another key of the lineage is younger than the cutoff (the object
 * is then still named by that key's row), so no object is left that no row names. Answers how many rows.
 */
export async function pruneExpiredKeys(db: D1Database, cutoff: number, limit: number): Promise<number> {
  const { results } = await db
    .prepare(
      `SELECT id, lineage_id FROM api_keys k WHERE expires_at < ?1
         AND (EXISTS (SELECT 1 FROM cleared_lineages c WHERE c.lineage_id = k.lineage_id)
              OR EXISTS (SELECT 1 FROM api_keys o WHERE o.lineage_id = k.lineage_id AND o.expires_at >= ?1))
       ORDER BY expires_at LIMIT ?2`,
    )
    .bind(cutoff, limit)
    .all<{ id: string; lineage_id: string }>();
  if (results.length === 0) return 0;
  const ids = JSON.stringify(results.map((r) => r.id));
  const lineages = JSON.stringify([...new Set(results.map((r) => r.lineage_id))]);
  const byKey = (table: string) =>
    db.prepare(`DELETE FROM ${table} WHERE key_id IN (SELECT value FROM json_each(?1))`).bind(ids);
  const deleted = await db.batch([
    byKey("usage_daily"),
    byKey("usage_hourly"),
    byKey("key_networks"),
    byKey("key_lifecycle_marks"),
    db
      .prepare("DELETE FROM api_keys WHERE id IN (SELECT value FROM json_each(?1)) AND expires_at < ?2")
      .bind(ids, cutoff),
    db
      .prepare(
        `DELETE FROM cleared_lineages WHERE lineage_id IN (SELECT value FROM json_each(?1))
           AND NOT EXISTS (SELECT 1 FROM api_keys WHERE api_keys.lineage_id = cleared_lineages.lineage_id)`,
      )
      .bind(lineages),
  ]);
  return deleted[4]?.meta.changes ?? 0;
}
