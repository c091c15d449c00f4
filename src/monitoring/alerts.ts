/**
 * Alerts in D1: one row per incident. A rule that fires again for the same key while its alert is still
 * open (seen within the dedupe window) updates that row; only a newly opened alert notifies the owner, so a
 * flood of flushes about one incident is one alert and one webhook, not a storm.
 */
import * as z from "zod";
import type { WaitUntil } from "../http/context";
import { notifyOwner } from "../notify/webhook";
import { isoTime } from "../util/time";
import { ALERT_RULES, type AlertRule, type Finding } from "./anomalies";

export interface AlertRow {
  id: number;
  rule: AlertRule;
  key_id: string;
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
  key_id: z.string(),
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

/**
 * Records a finding: opens an alert (and notifies the owner) unless one for the same rule and key is still
 * open, in which case that one is updated. The insert and the update run in one D1 batch, so two isolates
 * reporting the same incident at once still make one alert.
 */
export async function raiseAlert(
  env: Cloudflare.Env,
  waitUntil: WaitUntil,
  key: { id: string; owner_id: string },
  finding: Finding,
  now: number,
  dedupeMs: number,
): Promise<{ opened: boolean }> {
  const db = env.DB;
  const details = JSON.stringify(finding.details);
  const openSince = now - dedupeMs;
  const [inserted] = await db.batch<{ id: number }>([
    db
      .prepare(
        `INSERT INTO alerts (rule, key_id, owner_id, opened_at, last_seen_at, occurrences, details)
         SELECT ?1, ?2, ?3, ?4, ?4, 1, ?5
         WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE rule = ?1 AND key_id = ?2 AND last_seen_at > ?6)
         RETURNING id`,
      )
      .bind(finding.rule, key.id, key.owner_id, now, details, openSince),
    db
      .prepare(
        `UPDATE alerts SET last_seen_at = MAX(last_seen_at, ?4), occurrences = occurrences + 1, details = ?3
         WHERE changes() = 0 AND id = (SELECT MAX(id) FROM alerts WHERE rule = ?1 AND key_id = ?2 AND last_seen_at > ?5)`,
      )
      .bind(finding.rule, key.id, details, now, openSince),
  ]);
  const id = inserted?.results[0]?.id;
  if (id === undefined) return { opened: false };
  notifyOwner(env, waitUntil, {
    type: "alert.opened",
    owner_id: key.owner_id,
    key_id: key.id,
    data: { alert_id: id, rule: finding.rule, details: finding.details },
  });
  return { opened: true };
}

/** Alerts newest first; `openOnly` keeps those seen within the dedupe window. */
export async function findAlerts(
  db: D1Database,
  filter: { keyId?: string; rule?: AlertRule; openOnly: boolean; limit: number; before?: number },
  now: number,
  dedupeMs: number,
): Promise<AlertRow[]> {
  const rows = await db
    .prepare(
      `SELECT id, rule, key_id, owner_id, opened_at, last_seen_at, occurrences, details FROM alerts
       WHERE (?1 IS NULL OR key_id = ?1) AND (?2 IS NULL OR rule = ?2) AND (?3 = 0 OR last_seen_at > ?4)
         AND (?5 IS NULL OR id < ?5)
       ORDER BY id DESC LIMIT ?6`,
    )
    .bind(
      filter.keyId ?? null,
      filter.rule ?? null,
      filter.openOnly ? 1 : 0,
      now - dedupeMs,
      filter.before ?? null,
      filter.limit,
    )
    .all<AlertRow>();
  return rows.results;
}
