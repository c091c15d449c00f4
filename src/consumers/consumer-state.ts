/**
 * What the consumer's Durable Object needs of a consumer: its live state, read from D1 (the rest of the
 * consumer's record is the admin side's, in ./store.ts).
 */
import { auditIfChanged, type AuditEntry } from "../audit/audit-log";
import type { RateLimit } from "../keys/key-record";

export interface ConsumerState {
  id: string;
  status: "active" | "disabled" | "deleted";
  rate_limits: RateLimit[];
  /** Every key of the consumer created at or before this time is refused (revoke-keys); null if none ran. */
  keys_revoked_before: number | null;
  version: number;
}

/** The consumer's live state by id; null if there is no consumer row. */
export async function findConsumerState(db: D1Database, id: string): Promise<ConsumerState | null> {
  const row = await db
    .prepare("SELECT id, status, rate_limits, keys_revoked_before, version FROM consumers WHERE id = ?")
    .bind(id)
    .first<Omit<ConsumerState, "rate_limits"> & { rate_limits: string }>();
  return row ? { ...row, rate_limits: JSON.parse(row.rate_limits) } : null;
}

/** Moves a consumer between active and disabled, with its audit row; no change (and no row) if already there. */
export function setConsumerStatus(
  db: D1Database,
  id: string,
  to: "active" | "disabled",
  audit: AuditEntry,
): Promise<D1Result[]> {
  const subject = { type: "consumer", id } as const;
  return db.batch([
    db
      .prepare(
        `UPDATE consumers SET status = ?2, updated_at = ?3, version = version + 1
         WHERE id = ?1 AND status IN ('active', 'disabled') AND status != ?2`,
      )
      .bind(id, to, audit.at),
    auditIfChanged(db, subject, audit),
  ]);
}

/**
 * Marks every key of the consumer created up to now revoked (the consumer's object refuses them from the
 * moment the change is pushed) and records the job's start, with its audit row.
 */
export function markConsumerKeysRevoked(
  db: D1Database,
  id: string,
  reason: string | null,
  audit: AuditEntry,
): Promise<D1Result[]> {
  return db.batch([
    db
      .prepare(
        `UPDATE consumers SET keys_revoked_before = ?2, revoke_reason = ?3, updated_at = ?2, version = version + 1,
           revoke_progress = json_object('actor', ?4, 'request_id', ?5, 'total', n, 'remaining', n, 'done_at', NULL)
         FROM (SELECT COUNT(*) AS n FROM api_keys WHERE owner_id = ?1 AND status != 'revoked' AND created_at <= ?2)
         WHERE id = ?1 AND status != 'deleted'`,
      )
      .bind(id, audit.at, reason, audit.actor, audit.requestId),
    auditIfChanged(db, { type: "consumer", id }, audit),
  ]);
}
