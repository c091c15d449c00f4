/**
 * The audit log in D1: one row per mutation, always in the same batch as the change it records. A row's
 * subject is what changed: a key or a consumer (later a credential or a portal session), and every row of a
 * consumer's keys carries the consumer too, so a consumer's whole trail is one query.
 */
import * as z from "zod";
import { isoTime } from "../util/time";

const AUDIT_ACTIONS = [
  "create",
  "update",
  "disable",
  "enable",
  "revoke",
  "rotate",
  "start_grace",
  "revoke_keys",
  "delete",
] as const;
const SUBJECT_TYPES = ["key", "consumer", "credential", "portal_session"] as const;
type SubjectType = (typeof SUBJECT_TYPES)[number];

/** What a row is about. A key's consumer is read from the key's row in the same statement. */
export interface AuditSubject {
  type: SubjectType;
  id: string;
}
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  /** Who acted, as actorName (src/operations/actor.ts) names it, e.g. "ADMIN_TOKEN" or "credential:<id>". Never a secret. */
  actor: string;
  action: AuditAction;
  requestId: string;
  at: number;
  /** The changed fields. Never a key or its hash. */
  changes: Record<string, unknown>;
}

const INSERT = "INSERT INTO audit_log (at, actor, action, subject_type, subject_id, consumer_id, request_id, changes)";
/** The consumer of the subject: a key's owner, a consumer itself. */
const CONSUMER_OF = `CASE ?4 WHEN 'key' THEN (SELECT owner_id FROM api_keys WHERE id = ?5) WHEN 'consumer' THEN ?5
  WHEN 'portal_session' THEN (SELECT consumer_id FROM portal_links WHERE id = ?5) END`;
const VALUES = `?1, ?2, ?3, ?4, ?5, ${CONSUMER_OF}, ?6, ?7`;

function values(subject: AuditSubject, entry: AuditEntry) {
  return [
    entry.at,
    entry.actor,
    entry.action,
    subject.type,
    subject.id,
    entry.requestId,
    JSON.stringify(entry.changes),
  ] as const;
}

/** The subject of a key's audit rows. */
export const keySubject = (id: string): AuditSubject => ({ type: "key", id });

export function auditStatement(db: D1Database, subject: AuditSubject, entry: AuditEntry): D1PreparedStatement {
  return db.prepare(`${INSERT} VALUES (${VALUES})`).bind(...values(subject, entry));
}

/**
 * An audit insert that happens only if the statement just before it in the batch changed a row (SQLite's
 * `changes()`), so a conditional UPDATE that matched nothing leaves no audit row either.
 */
export function auditIfChanged(db: D1Database, subject: AuditSubject, entry: AuditEntry): D1PreparedStatement {
  return db.prepare(`${INSERT} SELECT ${VALUES} WHERE changes() > 0`).bind(...values(subject, entry));
}

/**
 * An audit row as the admin API answers it: the time as ISO, the changes parsed. `key_id` is the subject's id
 * when the subject is a key (null otherwise), as it was before subjects were general.
 */
export const auditRowSchema = z.object({
  id: z.int(),
  at: z.iso.datetime(),
  actor: z.string(),
  action: z.enum(AUDIT_ACTIONS),
  subject_type: z.enum(SUBJECT_TYPES),
  subject_id: z.string(),
  key_id: z.string().nullable(),
  consumer_id: z.string().nullable(),
  request_id: z.string(),
  changes: z.record(z.string(), z.unknown()),
});
export type AuditRow = z.output<typeof auditRowSchema>;

type StoredAuditRow = Omit<AuditRow, "at" | "changes" | "key_id"> & { at: number; changes: string };

/** Newest first; `cursor` is the last row id of the previous page. Filters combine. */
export async function findAuditPage(
  db: D1Database,
  filter: { keyId?: string; consumerId?: string; limit: number; cursor?: number },
): Promise<{ entries: AuditRow[]; nextCursor: number | null }> {
  const rows = await db
    .prepare(
      `SELECT id, at, actor, action, subject_type, subject_id, consumer_id, request_id, changes FROM audit_log
       WHERE (?1 IS NULL OR (subject_type = 'key' AND subject_id = ?1)) AND (?2 IS NULL OR consumer_id = ?2)
         AND (?3 IS NULL OR id < ?3)
       ORDER BY id DESC LIMIT ?4`,
    )
    .bind(filter.keyId ?? null, filter.consumerId ?? null, filter.cursor ?? null, filter.limit + 1)
    .all<StoredAuditRow>();
  const page = rows.results.slice(0, filter.limit);
  return {
    entries: page.map((r) => ({
      ...r,
      at: isoTime(r.at),
      key_id: r.subject_type === "key" ? r.subject_id : null,
      changes: JSON.parse(r.changes),
    })),
    nextCursor: rows.results.length > filter.limit ? page[page.length - 1]!.id : null,
  };
}
