/** All admin_credentials SQL. A credential's secret is never stored: only its SHA-256, looked up by equality. */
import { auditIfChanged, auditStatement, type AuditEntry } from "../audit/audit-log";
import type { AdminPermission } from "../operations/permissions";
import { jsonArrays } from "../util/json-chunks";
import { MINUTE_MS } from "../util/time";
import type { CredentialRecord } from "./credential-record";

const COLUMNS =
  "id, name, hint, permissions, consumers, created_by, created_at, expires_at, revoked_at, revoke_reason, last_used_at";

type CredentialRow = Omit<CredentialRecord, "permissions" | "consumers"> & {
  permissions: string;
  consumers: string | null;
};

const toRecord = (row: CredentialRow): CredentialRecord => ({
  ...row,
  permissions: JSON.parse(row.permissions) as AdminPermission[],
  consumers: row.consumers === null ? null : (JSON.parse(row.consumers) as string[]),
});

const subject = (id: string) => ({ type: "credential" as const, id });

/** Stores a new credential by its hash, with its audit row, in one batch. */
export async function insertCredential(
  db: D1Database,
  record: CredentialRecord,
  hash: string,
  audit: AuditEntry,
): Promise<void> {
  await db.batch([
    db
      .prepare(
        `INSERT INTO admin_credentials (${COLUMNS}, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)`,
      )
      .bind(
        record.id,
        record.name,
        record.hint,
        JSON.stringify(record.permissions),
        record.consumers === null ? null : JSON.stringify(record.consumers),
        record.created_by,
        record.created_at,
        record.expires_at,
        record.revoked_at,
        record.revoke_reason,
        record.last_used_at,
        hash,
      ),
    auditStatement(db, subject(record.id), audit),
  ]);
}

/** The credential whose secret has this hash. Read from D1 on every admin request: a revocation is at once. */
export async function findCredentialByHash(db: D1Database, hash: string): Promise<CredentialRecord | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM admin_credentials WHERE hash = ?1`)
    .bind(hash)
    .first<CredentialRow>();
  return row ? toRecord(row) : null;
}

/**
 * The credentials among these hashes, by hash, one statement per JSON chunk: for leak reports, where most
 * hashes are no credential at all.
 */
export async function findCredentialsByHashes(
  db: D1Database,
  hashes: readonly string[],
): Promise<Map<string, CredentialRecord>> {
  const found = new Map<string, CredentialRecord>();
  if (hashes.length === 0) return found;
  const statements = jsonArrays([...new Set(hashes)]).map((list) =>
    db
      .prepare(`SELECT ${COLUMNS}, hash FROM admin_credentials WHERE hash IN (SELECT value FROM json_each(?))`)
      .bind(list),
  );
  for (const { results } of await db.batch<CredentialRow & { hash: string }>(statements)) {
    for (const { hash, ...row } of results) found.set(hash, toRecord(row));
  }
  return found;
}

export async function findCredentialById(db: D1Database, id: string): Promise<CredentialRecord | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM admin_credentials WHERE id = ?1`)
    .bind(id)
    .first<CredentialRow>();
  return row ? toRecord(row) : null;
}

/** Newest first, `limit` + 1 rows so the caller can tell whether a next page exists. */
export async function findCredentialsPage(
  db: D1Database,
  filter: { limit: number; cursor?: { createdAt: number; id: string } },
): Promise<CredentialRecord[]> {
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS} FROM admin_credentials WHERE (?1 IS NULL OR (created_at, id) < (?1, ?2))
       ORDER BY created_at DESC, id DESC LIMIT ?3`,
    )
    .bind(filter.cursor?.createdAt ?? null, filter.cursor?.id ?? null, filter.limit + 1)
    .all<CredentialRow>();
  return results.map(toRecord);
}

/**
 * Revokes a credential with its audit row; revoking a revoked one changes nothing (and writes no row).
 * Answers whether this call revoked it.
 */
export async function markCredentialRevoked(
  db: D1Database,
  id: string,
  reason: string | null,
  audit: AuditEntry,
): Promise<boolean> {
  const [update] = await db.batch([
    db
      .prepare("UPDATE admin_credentials SET revoked_at = ?2, revoke_reason = ?3 WHERE id = ?1 AND revoked_at IS NULL")
      .bind(id, audit.at, reason),
    auditIfChanged(db, subject(id), audit),
  ]);
  return (update?.meta.changes ?? 0) > 0;
}

/** How stale `last_used_at` may be: it is written at most once a minute per credential. */
const LAST_USED_PRECISION_MS = MINUTE_MS;

/** Records that a credential was used now, unless that was already recorded within the last minute. */
export async function touchCredential(db: D1Database, id: string, now: number): Promise<void> {
  await db
    .prepare(
      "UPDATE admin_credentials SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?3)",
    )
    .bind(id, now, now - LAST_USED_PRECISION_MS)
    .run();
}

/** Credentials in use: neither revoked nor expired at `now`, and used since `since` (the report's figure). */
export async function countCredentialsInUse(db: D1Database, now: number, since: number): Promise<number> {
  const row = await db
    .prepare(
      "SELECT COUNT(*) AS n FROM admin_credentials WHERE revoked_at IS NULL AND expires_at > ?1 AND last_used_at >= ?2",
    )
    .bind(now, since)
    .first<{ n: number }>();
  return row?.n ?? 0;
}
