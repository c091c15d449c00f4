/**
 * D1, the source of truth for keys. Every statement binds its values as parameters; every mutation is
 * written in one batch (one transaction) with the audit row that records it.
 */
import { auditIfChanged, auditStatement, type AuditEntry } from "./audit-log";
import { jsonArrays } from "../util/json-chunks";
import { recordToColumns, rowToRecord, type KeyRecord, type KeyRow } from "./key-record";

const KEY_COLUMNS = [
  "id",
  "key_hash",
  "prefix",
  "hint",
  "type",
  "environment",
  "owner_id",
  "name",
  "scopes",
  "rate_limits",
  "ip_allowlist",
  "allowed_routes",
  "allowed_origins",
  "metadata",
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

export async function insertKey(db: D1Database, record: KeyRecord, keyHash: string, audit: AuditEntry): Promise<void> {
  const columns = { ...recordToColumns(record), key_hash: keyHash };
  const insert = db
    .prepare(`INSERT INTO api_keys (${KEY_COLUMNS.join(", ")}) VALUES (${KEY_COLUMNS.map(() => "?").join(", ")})`)
    .bind(...KEY_COLUMNS.map((c) => columns[c]));
  await db.batch([insert, auditStatement(db, record.id, audit)]);
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
  const [result] = await db.batch([change, auditIfChanged(db, keyId, audit)]);
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
export function setKeyStatus(db: D1Database, id: string, from: "active" | "disabled", to: "active" | "disabled", audit: AuditEntry) {
  const update = db
    .prepare("UPDATE api_keys SET status = ?, version = version + 1 WHERE id = ? AND status = ?")
    .bind(to, id, from);
  return changeWithAudit(db, update, id, audit);
}

/** The settings an admin may change on a live key. */
export const UPDATABLE_COLUMNS = [
  "name",
  "scopes",
  "rate_limits",
  "ip_allowlist",
  "allowed_routes",
  "allowed_origins",
  "metadata",
  "expires_at",
] as const satisfies readonly (keyof KeyRecord)[];
export type KeySettings = Partial<Pick<KeyRecord, (typeof UPDATABLE_COLUMNS)[number]>>;

/**
 * Writes changed settings, unless the key was revoked in the meantime (`expectedVersion` guards against a
 * concurrent change: an update decided on an older version matches nothing and is retried by the caller).
 */
export function updateKeySettings(db: D1Database, id: string, expectedVersion: number, settings: KeySettings, audit: AuditEntry) {
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

/**
 * Rotates a key in one batch: the predecessor gets `rotated_to` and its grace end, then — only if that
 * matched (it was active, unexpired and not rotated before) — the successor is inserted and both audit rows
 * written. Two concurrent rotations therefore yield exactly one successor.
 */
export async function writeRotation(
  db: D1Database,
  predecessor: { id: string; graceUntil: number; now: number },
  successor: KeyRecord,
  successorHash: string,
  audits: { predecessor: AuditEntry; successor: AuditEntry },
): Promise<{ rotated: boolean }> {
  const columns = { ...recordToColumns(successor), key_hash: successorHash };
  const [update] = await db.batch([
    db
      .prepare(
        `UPDATE api_keys SET rotated_to = ?, grace_until = ?, version = version + 1
         WHERE id = ? AND rotated_to IS NULL AND status = 'active' AND expires_at > ? AND (grace_until IS NULL OR grace_until > ?)`,
      )
      .bind(successor.id, predecessor.graceUntil, predecessor.id, predecessor.now, predecessor.now),
    db
      .prepare(
        `INSERT INTO api_keys (${KEY_COLUMNS.join(", ")}) SELECT ${KEY_COLUMNS.map(() => "?").join(", ")} WHERE changes() > 0`,
      )
      .bind(...KEY_COLUMNS.map((c) => columns[c])),
    auditIfChanged(db, predecessor.id, audits.predecessor),
    auditIfChanged(db, successor.id, audits.successor),
  ]);
  return { rotated: (update?.meta.changes ?? 0) > 0 };
}

export type ListStatus = "active" | "disabled" | "revoked" | "expired";

/** The condition for a derived status at time ?now (bound as a parameter, like every filter value). */
const STATUS_CONDITION: Record<ListStatus, string> = {
  active: "status = 'active' AND expires_at > :now AND (grace_until IS NULL OR grace_until > :now)",
  expired: "status = 'active' AND (expires_at <= :now OR (grace_until IS NOT NULL AND grace_until <= :now))",
  disabled: "status = 'disabled'",
  revoked: "status = 'revoked'",
};

/** Keys newest first, by keyset pagination on (created_at, id); `cursor` is opaque to callers. */
export async function findKeysPage(
  db: D1Database,
  filter: { ownerId?: string; status?: ListStatus; environment?: "live" | "test"; limit: number; cursor?: { createdAt: number; id: string } },
  now: number,
): Promise<{ records: KeyRecord[]; next: { createdAt: number; id: string } | null }> {
  const conditions = ["(?1 IS NULL OR owner_id = ?1)", "(?2 IS NULL OR environment = ?2)", "(?3 IS NULL OR (created_at, id) < (?3, ?4))"];
  if (filter.status) conditions.push(STATUS_CONDITION[filter.status].replaceAll(":now", "?5"));
  const rows = await db
    .prepare(`${SELECT_KEY} WHERE ${conditions.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ?6`)
    .bind(
      filter.ownerId ?? null,
      filter.environment ?? null,
      filter.cursor?.createdAt ?? null,
      filter.cursor?.id ?? null,
      now,
      filter.limit + 1,
    )
    .all<KeyRow>();
  const page = rows.results.slice(0, filter.limit).map(rowToRecord);
  const last = page[page.length - 1];
  return { records: page, next: rows.results.length > filter.limit && last ? { createdAt: last.created_at, id: last.id } : null };
}

/** Keys per usage statement: keeps each statement's JSON parameter well under D1's size limits. */
const USAGE_KEYS_PER_STATEMENT = 1_000;

/**
 * Adds counted admissions to keys' `usage_count` and moves `last_used_at` forward: one statement for up to
 * USAGE_KEYS_PER_STATEMENT keys (their counts passed as one JSON parameter), all statements in one batch.
 */
export async function addUsage(db: D1Database, usage: [keyId: string, { count: number; lastUsedAt: number }][]) {
  if (usage.length === 0) return;
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
  await db.batch(statements);
}
