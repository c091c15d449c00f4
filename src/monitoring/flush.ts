/**
 * Writes one isolate's pending batch (./usage.ts) to D1 and runs the anomaly rules for the keys in it.
 * Always in `waitUntil`, off the request. Per flush: one read (the keys' network history, before this batch
 * adds to it); one D1 batch with three upserts (hourly and daily rollups, networks; each one statement over
 * a JSON array, whatever the batch's size) and the key rows' `usage_count` and `last_used_at` (one
 * statement per 1,000 keys), in one transaction; then, for the keys in the batch, three more reads and one
 * small batch per alert raised.
 */
import { addUsageStatements, findKeyOwnersByIds } from "../keys/store";
import type { WaitUntil } from "../http/context";
import { log } from "../util/log";
import { DAY_MS, HOUR_MS, hourStart, utcDay } from "../util/time";
import { raiseAlert } from "./alerts";
import {
  evaluateRules,
  BASELINE_WINDOW_HOURS,
  NETWORK_HISTORY_DAYS,
  keyPredatesHistory,
  networksOf,
  newNetworks,
} from "./anomalies";
import { loadMonitoringConfig } from "./config";
import {
  countRows,
  keyUsage,
  parseObservation,
  takeBatch,
  type CountRow,
  type Observation,
  type PendingBatch,
} from "./usage";

/** Writes a batch; the promise never rejects (a failed flush is logged and its counts are lost). */
export function flushBatch(env: Cloudflare.Env, waitUntil: WaitUntil, batch: PendingBatch): Promise<void> {
  return writeBatch(env, waitUntil, batch).catch((error: unknown) => {
    log("error", "monitoring.flush_failed", {
      degraded: "usage_lost",
      error: (error as Error).name,
      counts: { rollup_rows_lost: batch.counts.size },
    });
  });
}

/**
 * Flushes everything this isolate holds now (the scheduled job, tests). It does not wait for a flush that
 * a request started: workerd does not let one request's work await another's I/O.
 */
export async function flushNow(env: Cloudflare.Env, waitUntil: WaitUntil, now: number): Promise<void> {
  const batch = takeBatch(now);
  if (batch) await flushBatch(env, waitUntil, batch);
}

/** What the alert rules need of a batch. */
interface Seen {
  /** Every key the batch counted (not only those with admissions): the refusal rules need the rest. */
  keyIds: string[];
  /** keyId → where its admissions came from. */
  observed: Map<string, Observation[]>;
  /** keyId → the networks it was seen from before this batch. */
  history: Map<string, Set<string>>;
  now: number;
}

async function writeBatch(env: Cloudflare.Env, waitUntil: WaitUntil, batch: PendingBatch): Promise<void> {
  const rows = countRows(batch);
  const observed = new Map<string, Observation[]>();
  for (const [keyId, set] of batch.observations) observed.set(keyId, [...set].map(parseObservation));
  const keyIds = [...new Set(rows.map((r) => r.keyId).filter((id) => id !== ""))];
  const now = batch.lastAt;
  // Read the networks' history before this batch adds to it: "new" means new before this flush.
  const history = await readNetworkHistory(env.DB, keyIds, now - NETWORK_HISTORY_DAYS * DAY_MS);
  await writeCounts(env.DB, batch, rows, observed);
  await raiseAlerts(env, waitUntil, { keyIds, observed, history, now });
}

/** Adds a batch's rows to one rollup table. `WHERE true` lets SQLite parse an upsert whose rows come from a SELECT. */
function addToRollup(db: D1Database, table: "usage_hourly" | "usage_daily", period: "hour" | "day", rows: unknown[][]) {
  return db
    .prepare(
      `INSERT INTO ${table} (${period}, key_id, outcome, count)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?) WHERE true
       ON CONFLICT (key_id, ${period}, outcome) DO UPDATE SET count = ${table}.count + excluded.count`,
    )
    .bind(JSON.stringify(rows));
}

/** The batch's counts in one D1 transaction: hourly and daily rollups, networks seen, and the key rows' usage. */
async function writeCounts(
  db: D1Database,
  batch: PendingBatch,
  rows: readonly CountRow[],
  observed: Map<string, Observation[]>,
) {
  const hourly = rows.map((r) => [r.hour, r.keyId, r.outcome, r.count]);
  const daily = new Map<string, [string, string, string, number]>();
  for (const r of rows) {
    const day = utcDay(r.hour);
    const k = `${day}\n${r.keyId}\n${r.outcome}`;
    const entry = daily.get(k) ?? [day, r.keyId, r.outcome, 0];
    entry[3] += r.count;
    daily.set(k, entry);
  }
  const networkRows: [string, string, number][] = [];
  for (const [keyId, list] of observed) {
    for (const o of list) {
      const n = networksOf(o);
      for (const name of [n.ip, n.asn, n.country]) if (name) networkRows.push([keyId, name, batch.lastAt]);
    }
  }
  await db.batch([
    addToRollup(db, "usage_hourly", "hour", hourly),
    addToRollup(db, "usage_daily", "day", [...daily.values()]),
    db
      .prepare(
        `INSERT INTO key_networks (key_id, network, first_seen, last_seen)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 2 FROM json_each(?) WHERE true
         ON CONFLICT (key_id, network) DO UPDATE SET last_seen = MAX(key_networks.last_seen, excluded.last_seen)`,
      )
      .bind(JSON.stringify(networkRows)),
    ...addUsageStatements(db, keyUsage(batch, rows)),
  ]);
}

/** Runs the anomaly rules for the keys a batch counted, and raises (or refreshes) an alert per finding. */
async function raiseAlerts(env: Cloudflare.Env, waitUntil: WaitUntil, seen: Seen): Promise<void> {
  const { keyIds, observed, history, now } = seen;
  if (keyIds.length === 0) return;
  const loaded = loadMonitoringConfig(env);
  if (!loaded.ok) {
    log("error", "monitoring.rules_skipped", { degraded: "config_invalid", setting: loaded.setting });
    return;
  }
  const config = loaded.config;
  const db = env.DB;
  const hour = now - (now % HOUR_MS);
  const [keys, hourCounts, baselines] = await Promise.all([
    findKeyOwnersByIds(db, keyIds),
    readHourCounts(db, keyIds, hour),
    readBaselines(db, keyIds, hour),
  ]);
  for (const keyId of keyIds) {
    const key = keys.get(keyId);
    if (key === undefined) continue; // deleted or never a key: nothing to alert about
    const known = history.get(keyId) ?? new Set<string>();
    const dormant = known.size === 0 && keyPredatesHistory(key.created_at, now);
    const findings = evaluateRules(
      {
        hourCounts: hourCounts.get(keyId) ?? {},
        baseline: baselines.get(keyId) ?? null,
        newNetworks: newNetworks(known, observed.get(keyId) ?? [], dormant),
        noRecentHistory: dormant,
      },
      config,
    );
    for (const finding of findings)
      await raiseAlert(env, waitUntil, { id: keyId, owner_id: key.owner_id }, finding, now, config.dedupeMs);
  }
}

const IN_KEYS = "key_id IN (SELECT value FROM json_each(?1))";

async function readNetworkHistory(db: D1Database, keyIds: string[], since: number) {
  const history = new Map<string, Set<string>>();
  if (keyIds.length === 0) return history;
  const { results } = await db
    .prepare(`SELECT key_id, network FROM key_networks WHERE ${IN_KEYS} AND last_seen >= ?2`)
    .bind(JSON.stringify(keyIds), since)
    .all<{ key_id: string; network: string }>();
  for (const r of results) {
    let set = history.get(r.key_id);
    if (!set) history.set(r.key_id, (set = new Set()));
    set.add(r.network);
  }
  return history;
}

async function readHourCounts(db: D1Database, keyIds: string[], hour: number) {
  const { results } = await db
    .prepare(`SELECT key_id, outcome, count FROM usage_hourly WHERE ${IN_KEYS} AND hour = ?2`)
    .bind(JSON.stringify(keyIds), hour)
    .all<{ key_id: string; outcome: string; count: number }>();
  const byKey = new Map<string, Record<string, number>>();
  for (const r of results) {
    const counts = byKey.get(r.key_id) ?? {};
    counts[r.outcome] = r.count;
    byKey.set(r.key_id, counts);
  }
  return byKey;
}

/** Each key's admissions in the hours before `hour` (at most BASELINE_WINDOW_HOURS), and the hours they span. */
async function readBaselines(db: D1Database, keyIds: string[], hour: number) {
  const { results } = await db
    .prepare(
      `SELECT key_id, SUM(count) AS admissions, MIN(hour) AS first_hour FROM usage_hourly
       WHERE ${IN_KEYS} AND outcome = 'valid' AND hour >= ?2 AND hour < ?3 GROUP BY key_id`,
    )
    .bind(JSON.stringify(keyIds), hour - BASELINE_WINDOW_HOURS * HOUR_MS, hour)
    .all<{ key_id: string; admissions: number; first_hour: number }>();
  return new Map(results.map((r) => [r.key_id, { admissions: r.admissions, hours: (hour - r.first_hour) / HOUR_MS }]));
}
