/**
 * The audit log in D1: one row per key mutation, always in the same batch as the change it records.
 */
import * as z from "zod";
import { isoTime } from "../util/time";

export const AUDIT_ACTIONS = ["create", "update", "disable", "enable", "revoke", "rotate"] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  /** Which credential acted: "ADMIN_TOKEN", "ADMIN_TOKEN_NEXT", or an Access user's email. Never a secret. */
  actor: string;
  action: AuditAction;
  requestId: string;
  at: number;
  /** The changed fields. Never a key or its hash. */
  changes: Record<string, unknown>;
}

const INSERT = "INSERT INTO audit_log (at, actor, action, key_id, request_id, changes)";

function values(keyId: string, entry: AuditEntry) {
  return [entry.at, entry.actor, entry.action, keyId, entry.requestId, JSON.stringify(entry.changes)] as const;
}

export function auditStatement(db: D1Database, keyId: string, entry: AuditEntry): D1PreparedStatement {
  return db.prepare(`${INSERT} VALUES (?, ?, ?, ?, ?, ?)`).bind(...values(keyId, entry));
}

/**
 * An audit insert that happens only if the statement just before it in the batch changed a row (SQLite's
 * `changes()`), so a conditional UPDATE that matched nothing leaves no audit row either.
 */
export function auditIfChanged(db: D1Database, keyId: string, entry: AuditEntry): D1PreparedStatement {
  return db.prepare(`${INSERT} SELECT ?, ?, ?, ?, ?, ? WHERE changes() > 0`).bind(...values(keyId, entry));
}

/** An audit row as the admin API answers it: the time as ISO, the changes parsed. */
export const auditRowSchema = z.object({
  id: z.int(),
  at: z.iso.datetime(),
  actor: z.string(),
  action: z.enum(AUDIT_ACTIONS),
  key_id: z.string(),
  request_id: z.string(),
  changes: z.record(z.string(), z.unknown()),
});
export type AuditRow = z.output<typeof auditRowSchema>;

/** Newest first; `cursor` is the last row id of the previous page. */
export async function findAuditPage(
  db: D1Database,
  filter: { keyId?: string; limit: number; cursor?: number },
): Promise<{ entries: AuditRow[]; nextCursor: number | null }> {
  const rows = await db
    .prepare(
      `SELECT id, at, actor, action, key_id, request_id, changes FROM audit_log
       WHERE (?1 IS NULL OR key_id = ?1) AND (?2 IS NULL OR id < ?2)
       ORDER BY id DESC LIMIT ?3`,
    )
    .bind(filter.keyId ?? null, filter.cursor ?? null, filter.limit + 1)
    .all<Omit<AuditRow, "at" | "changes"> & { at: number; changes: string }>();
  const page = rows.results.slice(0, filter.limit);
  return {
    entries: page.map((r) => ({ ...r, at: isoTime(r.at), changes: JSON.parse(r.changes) })),
    nextCursor: rows.results.length > filter.limit ? page[page.length - 1]!.id : null,
  };
}
