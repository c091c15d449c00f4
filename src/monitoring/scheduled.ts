/**
 * The Cron Trigger's work: expiry notices, marking keys that ran out, and retention pruning. Idempotent:
 * every step writes a (key, kind) mark only where none records the same time (or deletes what is past a
 * cut-off), so a run repeated (or two runs at once) sends no second notice and marks nothing twice. Each
 * step is bounded per run; what is left over is done by the next run.
 */
import { notifyOwner, type WaitUntil } from "../notify/webhook";
import { log } from "../util/log";
import { DAY_MS, isoTime, utcDay } from "../util/time";
import { NETWORK_HISTORY_DAYS } from "./anomalies";
import { loadMonitoringConfig } from "./config";
import { flushNow } from "./flush";
import { EXPIRY_NOTICE_DAYS } from "./report";

/** Keys notified or marked per step per run; a backlog drains over the following runs. */
export const SCHEDULED_BATCH_LIMIT = 500;
/** Rows deleted per table per run. */
export const PRUNE_BATCH_LIMIT = 5_000;
/** Hourly rollups only feed the anomaly baseline (7 days) and the report's last 24 hours. */
export const HOURLY_RETENTION_DAYS = 8;

export interface ScheduledSummary {
  expiry_notices: number;
  marked_expired: number;
  marked_grace_ended: number;
  pruned: Record<string, number>;
}

export async function runScheduled(env: Cloudflare.Env, waitUntil: WaitUntil, now: number): Promise<ScheduledSummary> {
  const db = env.DB;
  await flushNow(env, waitUntil, now);

  // 1. Expiry notices, once per expiry date: the mark records the `expires_at` it was sent for, so a key
  //    whose expiry was moved (PATCH) is notified again about its new date. The mark goes in first, and
  //    only the run whose upsert wrote it notifies (an upsert that finds the same date changes no row and
  //    returns none).
  const { results: due } = await db
    .prepare(
      `SELECT id, owner_id, name, expires_at FROM api_keys
       WHERE status = 'active' AND expires_at > ?1 AND expires_at <= ?2 AND (grace_until IS NULL OR grace_until > ?1)
         AND NOT EXISTS (SELECT 1 FROM key_lifecycle_marks m
                         WHERE m.key_id = api_keys.id AND m.kind = 'expiry_notice' AND m.at_time = api_keys.expires_at)
       ORDER BY expires_at LIMIT ?3`,
    )
    .bind(now, now + EXPIRY_NOTICE_DAYS * DAY_MS, SCHEDULED_BATCH_LIMIT)
    .all<{ id: string; owner_id: string; name: string; expires_at: number }>();
  let notices = 0;
  if (due.length > 0) {
    // `WHERE true` lets SQLite parse an upsert whose rows come from a SELECT.
    const { results: marked } = await db
      .prepare(
        `INSERT INTO key_lifecycle_marks (key_id, kind, marked_at, at_time)
         SELECT value ->> 0, 'expiry_notice', ?2, value ->> 1 FROM json_each(?1) WHERE true
         ON CONFLICT (key_id, kind) DO UPDATE SET marked_at = excluded.marked_at, at_time = excluded.at_time
           WHERE key_lifecycle_marks.at_time != excluded.at_time
         RETURNING key_id`,
      )
      .bind(JSON.stringify(due.map((k) => [k.id, k.expires_at])), now)
      .all<{ key_id: string }>();
    const mine = new Set(marked.map((m) => m.key_id));
    for (const key of due) {
      if (!mine.has(key.id)) continue;
      notices++;
      notifyOwner(env, waitUntil, {
        type: "key.expiring",
        owner_id: key.owner_id,
        key_id: key.id,
        data: { name: key.name, expires_at: isoTime(key.expires_at), days_left: Math.ceil((key.expires_at - now) / DAY_MS) },
      });
    }
  }

  // 2. Keys past their expiry or their rotation grace end. The verify path already refuses them; the mark
  //    records when the system noticed, for the audit trail and the report.
  const [expired, graceEnded] = await db.batch([
    db
      .prepare(
        `INSERT OR IGNORE INTO key_lifecycle_marks (key_id, kind, marked_at, at_time)
         SELECT id, 'expired', ?1, expires_at FROM api_keys
         WHERE status != 'revoked' AND expires_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM key_lifecycle_marks m WHERE m.key_id = api_keys.id AND m.kind = 'expired')
         LIMIT ?2`,
      )
      .bind(now, SCHEDULED_BATCH_LIMIT),
    db
      .prepare(
        `INSERT OR IGNORE INTO key_lifecycle_marks (key_id, kind, marked_at, at_time)
         SELECT id, 'grace_ended', ?1, grace_until FROM api_keys
         WHERE status != 'revoked' AND grace_until IS NOT NULL AND grace_until <= ?1
           AND NOT EXISTS (SELECT 1 FROM key_lifecycle_marks m WHERE m.key_id = api_keys.id AND m.kind = 'grace_ended')
         LIMIT ?2`,
      )
      .bind(now, SCHEDULED_BATCH_LIMIT),
  ]);

  // 3. Retention. A malformed retention setting prunes nothing rather than guessing.
  const pruned: Record<string, number> = {};
  const loaded = loadMonitoringConfig(env);
  if (!loaded.ok) {
    log("error", "scheduled.prune_skipped", { degraded: "config_invalid", setting: loaded.setting });
  } else {
    const { usageRetentionDays, alertRetentionDays } = loaded.config;
    const cutoffs: [string, string, number | string][] = [
      ["usage_daily", "SELECT key_id, day, outcome FROM usage_daily WHERE day < ?1", utcDay(now - usageRetentionDays * DAY_MS)],
      ["usage_hourly", "SELECT key_id, hour, outcome FROM usage_hourly WHERE hour < ?1", now - HOURLY_RETENTION_DAYS * DAY_MS],
      ["key_networks", "SELECT key_id, network FROM key_networks WHERE last_seen < ?1", now - NETWORK_HISTORY_DAYS * DAY_MS],
      ["alerts", "SELECT id FROM alerts WHERE last_seen_at < ?1", now - alertRetentionDays * DAY_MS],
    ];
    const results = await db.batch(
      cutoffs.map(([table, select, cutoff]) => {
        const columns = select.slice("SELECT ".length, select.indexOf(" FROM"));
        return db.prepare(`DELETE FROM ${table} WHERE (${columns}) IN (${select} LIMIT ?2)`).bind(cutoff, PRUNE_BATCH_LIMIT);
      }),
    );
    cutoffs.forEach(([table], i) => (pruned[table] = results[i]?.meta.changes ?? 0));
  }

  const summary = {
    expiry_notices: notices,
    marked_expired: expired?.meta.changes ?? 0,
    marked_grace_ended: graceEnded?.meta.changes ?? 0,
    pruned,
  };
  const { pruned: prunedByTable, ...marks } = summary;
  const prunedCounts = Object.fromEntries(Object.entries(prunedByTable).map(([table, n]) => [`pruned_${table}`, n]));
  log("info", "scheduled.done", { counts: { ...marks, ...prunedCounts } });
  return summary;
}
