/**
 * D1, the source of truth for keys. Every statement binds its values as parameters; every mutation is
 * written in one batch (one transaction) with the audit row that records it.
 */
import { recordToColumns, rowToRecord, type KeyRecord, type KeyRow } from "./record";

export interface AuditEntry {
  actor: string;
  action: "create" | "revoke";
  requestId: string;
  at: number;
  changes: Record<string, unknown>;
}

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

function auditStatement(db: D1Database, keyId: string, entry: AuditEntry): D1PreparedStatement {
  return db
    .prepare("INSERT INTO audit_log (at, actor, action, key_id, request_id, changes) VALUES (?, ?, ?, ?, ?, ?)")
    .bind(entry.at, entry.actor, entry.action, keyId, entry.requestId, JSON.stringify(entry.changes));
}

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

/** The record and its hash (the hash names the key's cache entries; it never leaves the Worker). */
export async function findKeyById(db: D1Database, id: string): Promise<{ record: KeyRecord; keyHash: string } | null> {
  const row = await db.prepare(`${SELECT_KEY} WHERE id = ?`).bind(id).first<KeyRow>();
  return row ? { record: rowToRecord(row), keyHash: row.key_hash } : null;
}

/**
 * Marks a key revoked. Idempotent: a key already revoked keeps its first revocation time and reason, and no
 * second audit row is written (the UPDATE matches nothing, and the audit insert is conditioned on it).
 */
export async function revokeKey(
  db: D1Database,
  id: string,
  reason: string | null,
  audit: AuditEntry,
): Promise<{ changed: boolean }> {
  const update = db
    .prepare("UPDATE api_keys SET status = 'revoked', revoked_at = ?, revoke_reason = ?, version = version + 1 WHERE id = ? AND status != 'revoked'")
    .bind(audit.at, reason, id);
  const auditIfChanged = db
    .prepare(
      `INSERT INTO audit_log (at, actor, action, key_id, request_id, changes)
       SELECT ?, ?, ?, ?, ?, ? WHERE changes() > 0`,
    )
    .bind(audit.at, audit.actor, audit.action, id, audit.requestId, JSON.stringify(audit.changes));
  const [result] = await db.batch([update, auditIfChanged]);
  return { changed: (result?.meta.changes ?? 0) > 0 };
}

/** Adds counted admissions to keys' `usage_count` and moves `last_used_at` forward, in one batch. */
export async function addUsage(db: D1Database, usage: [keyId: string, { count: number; lastUsedAt: number }][]) {
  if (usage.length === 0) return;
  await db.batch(
    usage.map(([id, u]) =>
      db
        .prepare("UPDATE api_keys SET usage_count = usage_count + ?, last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?")
        .bind(u.count, u.lastUsedAt, id),
    ),
  );
}
