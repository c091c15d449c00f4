/**
 * Alerts in D1: one row per incident. An alert's subject is a key (and its consumer, the owner), or for a
 * consumer-wide rule the consumer alone (`key_id` NULL). A rule that fires again for the same subject while
 * its alert is still open (seen within the dedupe window) updates that row; only a newly opened alert
 * notifies the owner, so a flood of flushes about one incident is one alert and one webhook, not a storm.
 */
import * as z from "zod";
import type { WaitUntil } from "../http/context";
import { notifyOwner } from "../notify/webhook";
import { isoTime } from "../util/time";
import { ALERT_RULES, type AlertRule, type Finding } from "./anomalies";

export interface AlertRow {
  id: number;
  rule: AlertRule;
  /** NULL for a consumer-wide rule. */
  key_id: string | null;
  owner_id: string;
  opened_at: number;
  last_seen_at: number;
  occurrences: number;
  details: string;
}

/** The admin API's view of an alert: ISO times, parsed details, and whether it is still open. */
export const alertViewSchema = z.object({
  id: z.int(),
  rule: z.enum(ALERT_RULES),
  /** null for a consumer-wide rule (`consumer_traffic_spike`): its subject is the consumer, `owner_id`. */
  key_id: z.string().nullable(),
  owner_id: z.string(),
  status: z.enum(["open", "closed"]),
  opened_at: z.iso.datetime(),
  last_seen_at: z.iso.datetime(),
  occurrences: z.int(),
  details: z.record(z.string(), z.unknown()),
});
export type AlertView = z.output<typeof alertViewSchema>;

export function toAlertObject(row: AlertRow, now: number, dedupeMs: number): AlertView {
  return {
    id: row.id,
    rule: row.rule,
    key_id: row.key_id,
    owner_id: row.owner_id,
    status: row.last_seen_at > now - dedupeMs ? ("open" as const) : ("closed" as const),
    opened_at: isoTime(row.opened_at),
    last_seen_at: isoTime(row.last_seen_at),
    occurrences: row.occurrences,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

/** What an alert is about: a key of a consumer, or (`keyId` null) the consumer as a whole. */
export interface AlertSubject {
  keyId: string | null;
  ownerId: string;
}

/**
 * The open alerts of the same subject, with ?1 the rule, ?2 the key id, ?3 the owner id and ?4 the start of
 * the dedupe window: a key's by `alerts_rule_key`, a consumer's own (no key) by `alerts_rule_owner`.
 */
const sameSubject = (subject: AlertSubject) =>
  subject.keyId === null
    ? "rule = ?1 AND owner_id = ?3 AND key_id IS NULL AND last_seen_at > ?4"
    : "rule = ?1 AND key_id = ?2 AND last_seen_at > ?4";

/**
 * Records a finding: opens an alert (and notifies the owner) unless one for the same rule and subject is
 * still open, in which case that one is updated. The insert and the update run in one D1 batch, so two
 * isolates reporting the same incident at once still make one alert.
 */
export async function raiseAlert(
  env: Cloudflare.Env,
  waitUntil: WaitUntil,
  subject: AlertSubject,
  finding: Finding,
  now: number,
  dedupeMs: number,
): Promise<{ opened: boolean }> {
  const db = env.DB;
  const details = JSON.stringify(finding.details);
  const open = sameSubject(subject);
  const params = [finding.rule, subject.keyId, subject.ownerId, now - dedupeMs, now, details] as const;
  const [inserted] = await db.batch<{ id: number }>([
    db
      .prepare(
        `INSERT INTO alerts (rule, key_id, owner_id, opened_at, last_seen_at, occurrences, details)
         SELECT ?1, ?2, ?3, ?5, ?5, 1, ?6
         WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE ${open})
         RETURNING id`,
      )
      .bind(...params),
    db
      .prepare(
        `UPDATE alerts SET last_seen_at = MAX(last_seen_at, ?5), occurrences = occurrences + 1, details = ?6
         WHERE changes() = 0 AND id = (SELECT MAX(id) FROM alerts WHERE ${open})`,
      )
      .bind(...params),
  ]);
  const id = inserted?.results[0]?.id;
  if (id === undefined) return { opened: false };
  notifyOwner(env, waitUntil, {
    type: "alert.opened",
    owner_id: subject.ownerId,
    ...(subject.keyId === null ? {} : { key_id: subject.keyId }),
    data: { alert_id: id, rule: finding.rule, details: finding.details },
  });
  return { opened: true };
}

/** Alerts newest first; `openOnly` keeps those seen within the dedupe window; `consumerId` matches the owner. */
export async function findAlerts(
  db: D1Database,
  filter: {
    keyId?: string;
    consumerId?: string;
    rule?: AlertRule;
    openOnly: boolean;
    limit: number;
    before?: number;
  },
  now: number,
  dedupeMs: number,
): Promise<AlertRow[]> {
  const rows = await db
    .prepare(
      `SELECT id, rule, key_id, owner_id, opened_at, last_seen_at, occurrences, details FROM alerts
       WHERE (?1 IS NULL OR key_id = ?1) AND (?2 IS NULL OR rule = ?2) AND (?3 = 0 OR last_seen_at > ?4)
         AND (?5 IS NULL OR id < ?5) AND (?7 IS NULL OR owner_id = ?7)
       ORDER BY id DESC LIMIT ?6`,
    )
    .bind(
      filter.keyId ?? null,
      filter.rule ?? null,
      filter.openOnly ? 1 : 0,
      now - dedupeMs,
      filter.before ?? null,
      filter.limit,
      filter.consumerId ?? null,
    )
    .all<AlertRow>();
  return rows.results;
}
