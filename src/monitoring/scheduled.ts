/**
 * The Cron Trigger's work: expiry notices, marking keys that ran out, and retention pruning. Idempotent:
 * every step writes a (key, kind) mark only where none records the same time (or deletes what is past a
 * cut-off), so a run repeated (or two runs at once) sends no second notice and marks nothing twice. Each
 * step is bounded per run; what is left over is done by the next run.
 */
import { listKeysDueExpiryNotice, markLapsedKeys } from "../keys/store";
import type { WaitUntil } from "../http/context";
import { notifyOwner } from "../notify/webhook";
import { log } from "../util/log";
import { DAY_MS, utcDay } from "../util/time";
import { NETWORK_HISTORY_DAYS } from "./anomalies";
import { loadMonitoringConfig, type MonitoringConfig } from "./config";
import { flushNow } from "./flush";
import { EXPIRY_NOTICE_DAYS } from "./report";
import { runKeyRetention, type RetentionSummary } from "./retention";
import { HOURLY_RETENTION_DAYS } from "./usage-store";

/** Keys notified or marked per step per run; a backlog drains over the following runs. */
const SCHEDULED_BATCH_LIMIT = 500;
/** Rows deleted per table per run. */
const PRUNE_BATCH_LIMIT = 5_000;

export interface ScheduledSummary extends RetentionSummary {
  expiry_notices: number;
  marked_expired: number;
  marked_grace_ended: number;
  pruned: Record<string, number>;
}

export async function runScheduled(env: Cloudflare.Env, waitUntil: WaitUntil, now: number): Promise<ScheduledSummary> {
  await flushNow(env, waitUntil, now);
  const notices = await sendExpiryNotices(env, waitUntil, now);
  // 2. Keys past their expiry or their rotation grace end. The verify path already refuses them; the mark
  //    records when the system noticed, for the audit trail and the report.
  const lapsed = await markLapsedKeys(env.DB, now, SCHEDULED_BATCH_LIMIT);
  const loaded = loadMonitoringConfig(env);
  if (!loaded.ok) log("error", "scheduled.prune_skipped", { degraded: "config_invalid", setting: loaded.setting });
  const config = loaded.ok ? loaded.config : null;
  const pruned = config ? await prune(env, now, config) : {};
  // 4. Keys that can no longer work: their lineage's object cleared, their rows pruned after retention.
  const retention = await runKeyRetention(env, now, config?.expiredKeyRetentionDays ?? null);
  const marks = { expiry_notices: notices, marked_expired: lapsed.expired, marked_grace_ended: lapsed.graceEnded };
  const prunedCounts = Object.fromEntries(Object.entries(pruned).map(([table, n]) => [`pruned_${table}`, n]));
  log("info", "scheduled.done", { counts: { ...marks, ...prunedCounts, ...retention } });
  return { ...marks, pruned, ...retention };
}

/**
 * 1. Expiry notices, once per expiry date: the mark records the `expires_at` it was sent for, so a key
 *    whose expiry was moved (PATCH) is notified again about its new date. The mark goes in first, and only
 *    the run whose upsert wrote it notifies (an upsert that finds the same date changes no row and returns
 *    none). Answers how many owners were notified.
 */
async function sendExpiryNotices(env: Cloudflare.Env, waitUntil: WaitUntil, now: number): Promise<number> {
  const db = env.DB;
  const due = await listKeysDueExpiryNotice(db, now, now + EXPIRY_NOTICE_DAYS * DAY_MS, SCHEDULED_BATCH_LIMIT);
  if (due.length === 0) return 0;
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
  let notices = 0;
  for (const key of due) {
    if (!mine.has(key.id)) continue;
    notices++;
    notifyOwner(env, waitUntil, {
      type: "key.expiring",
      owner_id: key.owner_id,
      key_id: key.id,
      data: {
        name: key.name,
        expires_at: new Date(key.expires_at).toISOString(),
        days_left: Math.ceil((key.expires_at - now) / DAY_MS),
      },
    });
  }
  return notices;
}

/**
 * 3. Retention of rollups, networks and alerts (a malformed retention setting prunes nothing rather than
 *    guessing: the caller skips it). Answers rows deleted per table.
 */
async function prune(env: Cloudflare.Env, now: number, config: MonitoringConfig): Promise<Record<string, number>> {
  const pruned: Record<string, number> = {};
  const { usageRetentionDays, alertRetentionDays } = config;
  const cutoffs: [string, string, number | string][] = [
    [
      "usage_daily",
      "SELECT key_id, day, outcome FROM usage_daily WHERE day < ?1",
      utcDay(now - usageRetentionDays * DAY_MS),
    ],
    [
      "usage_hourly",
      "SELECT key_id, hour, outcome FROM usage_hourly WHERE hour < ?1",
      now - HOURLY_RETENTION_DAYS * DAY_MS,
    ],
    [
      "usage_consumer_daily",
      "SELECT consumer_id, day, outcome FROM usage_consumer_daily WHERE day < ?1",
      utcDay(now - usageRetentionDays * DAY_MS),
    ],
    [
      "usage_consumer_hourly",
      "SELECT consumer_id, hour, outcome FROM usage_consumer_hourly WHERE hour < ?1",
      now - HOURLY_RETENTION_DAYS * DAY_MS,
    ],
    [
      "key_networks",
      "SELECT key_id, network FROM key_networks WHERE last_seen < ?1",
      now - NETWORK_HISTORY_DAYS * DAY_MS,
    ],
    ["alerts", "SELECT id FROM alerts WHERE last_seen_at < ?1", now - alertRetentionDays * DAY_MS],
  ];
  const db = env.DB;
  const results = await db.batch(
    cutoffs.map(([table, select, cutoff]) => {
      const columns = select.slice("SELECT ".length, select.indexOf(" FROM"));
      return db
        .prepare(`DELETE FROM ${table} WHERE (${columns}) IN (${select} LIMIT ?2)`)
        .bind(cutoff, PRUNE_BATCH_LIMIT);
    }),
  );
  cutoffs.forEach(([table], i) => {
    pruned[table] = results[i]?.meta.changes ?? 0;
  });
  return pruned;
}
