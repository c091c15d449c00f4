/**
 * D1 for consumers: every statement that reads or writes `consumers` is here. Values are bound as
 * parameters; every change bumps `version` and is written in one batch with the audit row that records it
 * (subject: the consumer), and a change that matched nothing writes no audit row either.
 */
import { type AuditEntry, type AuditSubject, auditIfChanged } from "../audit/audit-log";
import { hasUnrevokedKey } from "../keys/store";
import { type ConsumerRecord, type ConsumerRow, type ConsumerStatus, rowToConsumer } from "./consumer-record";

const CONSUMER_COLUMNS = [
  "id",
  "name",
  "metadata",
  "rate_limits",
  "key_policy",
  "status",
  "created_at",
  "updated_at",
  "deleted_at",
  "keys_revoked_before",
  "revoke_reason",
  "revoke_progress",
  "version",
] as const;

const SELECT_CONSUMER = `SELECT ${CONSUMER_COLUMNS.join(", ")} FROM consumers`;

const consumerSubject = (id: string): AuditSubject => ({ type: "consumer", id });

/** A consumer as D1 holds it: the record, and its key policy as stored text (what a key's batch is gated on). */
export interface StoredConsumer {
  record: ConsumerRecord;
  keyPolicyText: string;
}

export async function findConsumerById(db: D1Database, id: string): Promise<StoredConsumer | null> {
  const row = await db.prepare(`${SELECT_CONSUMER} WHERE id = ?`).bind(id).first<ConsumerRow>();
  return row ? { record: rowToConsumer(row), keyPolicyText: row.key_policy } : null;
}

/** The settings an admin chooses for a consumer: what a create sets and an update may change. */
export interface ConsumerSettings {
  name?: string;
  metadata?: Record<string, unknown>;
  rate_limits?: ConsumerRecord["rate_limits"];
  key_policy?: ConsumerRecord["key_policy"];
}
const SETTING_COLUMNS = ["name", "metadata", "rate_limits", "key_policy"] as const;
const settingValue = (settings: ConsumerSettings, column: (typeof SETTING_COLUMNS)[number]) =>
  column === "name" ? settings.name : JSON.stringify(settings[column]);

/** Creates a consumer unless one has the id (deleted ones included: an id is never reused). */
export async function insertConsumer(
  db: D1Database,
  id: string,
  settings: Required<ConsumerSettings>,
  audit: AuditEntry,
): Promise<{ created: boolean }> {
  const [insert] = await db.batch([
    db
      .prepare(
        `INSERT OR IGNORE INTO consumers (id, ${SETTING_COLUMNS.join(", ")}, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)`,
      )
      .bind(id, ...SETTING_COLUMNS.map((c) => settingValue(settings, c)), audit.at),
    auditIfChanged(db, consumerSubject(id), audit),
  ]);
  return { created: (insert?.meta.changes ?? 0) > 0 };
}

/** Writes changed settings of a consumer that is not deleted; `changed` is false if there is none. */
export async function updateConsumerSettings(
  db: D1Database,
  id: string,
  settings: ConsumerSettings,
  audit: AuditEntry,
): Promise<{ changed: boolean }> {
  const columns = SETTING_COLUMNS.filter((c) => settings[c] !== undefined);
  const [update] = await db.batch([
    db
      .prepare(
        `UPDATE consumers SET ${columns.map((c, i) => `${c} = ?${i + 3}`).join(", ")},
           updated_at = ?2, version = version + 1
         WHERE id = ?1 AND status != 'deleted'`,
      )
      .bind(id, audit.at, ...columns.map((c) => settingValue(settings, c))),
    auditIfChanged(db, consumerSubject(id), audit),
  ]);
  return { changed: (update?.meta.changes ?? 0) > 0 };
}

/**
 * Marks a consumer deleted (the row stays, for the audit trail), only if it is not deleted already and every
 * key of it is revoked, both checked in the one statement.
 */
export async function markConsumerDeleted(
  db: D1Database,
  id: string,
  audit: AuditEntry,
): Promise<{ deleted: boolean }> {
  const [update] = await db.batch([
    db
      .prepare(
        `UPDATE consumers SET status = 'deleted', deleted_at = ?2, updated_at = ?2, version = version + 1
         WHERE id = ?1 AND status != 'deleted' AND NOT ${hasUnrevokedKey("?1")}`,
      )
      .bind(id, audit.at),
    auditIfChanged(db, consumerSubject(id), audit),
  ]);
  return { deleted: (update?.meta.changes ?? 0) > 0 };
}

/**
 * The statements a new key's batch starts with (see KeyAdmission in src/keys/store.ts): the owner's consumer
 * is created if there is none (no shared limits, no policy; audited as created with the key), then a gate
 * that changes a row (its own, to itself) only if the consumer is still active and still as it was read
 * (`expected`: its version and key policy; null when there was none, so the one just created), so a key is
 * never minted on a policy or a status that changed after it was checked.
 */
export function keyAdmissionGate(
  db: D1Database,
  ownerId: string,
  expected: StoredConsumer | null,
  audit: AuditEntry,
): D1PreparedStatement[] {
  return [
    db
      .prepare("INSERT OR IGNORE INTO consumers (id, created_at, updated_at) VALUES (?1, ?2, ?2)")
      .bind(ownerId, audit.at),
    auditIfChanged(db, consumerSubject(ownerId), audit),
    db
      .prepare(
        `UPDATE consumers SET version = version
         WHERE id = ?1 AND status = 'active' AND version = ?2 AND key_policy = ?3`,
      )
      .bind(ownerId, expected?.record.version ?? 1, expected?.keyPolicyText ?? "{}"),
  ];
}

/** Consumers newest first, by keyset pagination on (created_at, id). */
export async function findConsumersPage(
  db: D1Database,
  filter: {
    id?: string;
    status?: ConsumerStatus;
    /** Only these consumers (a principal limited to them); undefined: any. */
    within?: readonly string[];
    limit: number;
    cursor?: { createdAt: number; id: string };
  },
): Promise<{ records: ConsumerRecord[]; next: { createdAt: number; id: string } | null }> {
  const rows = await db
    .prepare(
      `${SELECT_CONSUMER}
       WHERE (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR (created_at, id) < (?3, ?4))
         AND (?6 IS NULL OR id IN (SELECT value FROM json_each(?6)))
       ORDER BY created_at DESC, id DESC LIMIT ?5`,
    )
    .bind(
      filter.id ?? null,
      filter.status ?? null,
      filter.cursor?.createdAt ?? null,
      filter.cursor?.id ?? null,
      filter.limit + 1,
      filter.within === undefined ? null : JSON.stringify(filter.within),
    )
    .all<ConsumerRow>();
  const page = rows.results.slice(0, filter.limit).map(rowToConsumer);
  const last = page[page.length - 1];
  return {
    records: page,
    next: rows.results.length > filter.limit && last ? { createdAt: last.created_at, id: last.id } : null,
  };
}

/** Moves a consumer between active and disabled, with its audit row; no change (and no row) if already there. */
export function setConsumerStatus(
  db: D1Database,
  id: string,
  to: "active" | "disabled",
  audit: AuditEntry,
): Promise<D1Result[]> {
  return db.batch([
    db
      .prepare(
        `UPDATE consumers SET status = ?2, updated_at = ?3, version = version + 1
         WHERE id = ?1 AND status IN ('active', 'disabled') AND status != ?2`,
      )
      .bind(id, to, audit.at),
    auditIfChanged(db, consumerSubject(id), audit),
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
    auditIfChanged(db, consumerSubject(id), audit),
  ]);
}
