/**
 * Writes one isolate's pending batch (./usage.ts) to D1 and runs the anomaly rules for the keys and
 * consumers in it. Always in `waitUntil`, off the request. Per flush: two reads at once (the keys' network
 * history, before this batch adds to it, and the keys' owners, which attribute the counts to consumers); one
 * D1 batch with five upserts (hourly and daily rollups per key and per consumer, networks; each one
 * statement over a JSON array, whatever the batch's size) and the key rows' `usage_count` and
 * `last_used_at` (one statement per 1,000 keys), in one transaction; then three more reads at once
 * (./rule-inputs.ts) and one small batch per alert raised.
 */
import { addUsageStatements, findKeyOwnersByIds } from "../keys/store";
import type { WaitUntil } from "../http/context";
import { log } from "../util/log";
import { DAY_MS, HOUR_MS, utcDay } from "../util/time";
import { raiseAlert } from "./alerts";
import {
  evaluateConsumerRules,
  evaluateRules,
  NETWORK_HISTORY_DAYS,
  keyPredatesHistory,
  networksOf,
  newNetworks,
} from "./anomalies";
import { loadMonitoringConfig } from "./config";
import { type ConsumerHour, readBaselines, readConsumerHours, readHourCounts, readNetworkHistory } from "./rule-inputs";
import {
  consumerRows,
  countRows,
  keyUsage,
  parseObservation,
  takeBatch,
  type CountRow,
  type Observation,
  type PendingBatch,
} from "./usage";

type KeyOwners = Awaited<ReturnType<typeof findKeyOwnersByIds>>;

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
  /** keyId → its owner and creation time (keys that do not exist are left out). */
  keys: KeyOwners;
  now: number;
}

async function writeBatch(env: Cloudflare.Env, waitUntil: WaitUntil, batch: PendingBatch): Promise<void> {
  const rows = countRows(batch);
  const observed = new Map<string, Observation[]>();
  for (const [keyId, set] of batch.observations) observed.set(keyId, [...set].map(parseObservation));
  const keyIds = [...new Set(rows.map((r) => r.keyId).filter((id) => id !== ""))];
  const now = batch.lastAt;
  // Read the networks' history before this batch adds to it: "new" means new before this flush.
  const [history, keys] = await Promise.all([
    readNetworkHistory(env.DB, keyIds, now - NETWORK_HISTORY_DAYS * DAY_MS),
    keyIds.length === 0 ? (new Map() as KeyOwners) : findKeyOwnersByIds(env.DB, keyIds),
  ]);
  await writeCounts(env.DB, batch, rows, observed, keys);
  await raiseAlerts(env, waitUntil, { keyIds, observed, history, keys, now });
}

type RollupTable = "usage_hourly" | "usage_daily" | "usage_consumer_hourly" | "usage_consumer_daily";

/**
 * Adds rows `[period, subject, outcome, count]` to one rollup table, keyed by `subject` (a key id, or a
 * consumer id). `WHERE true` lets SQLite parse an upsert whose rows come from a SELECT.
 */
function addToRollup(db: D1Database, table: RollupTable, period: "hour" | "day", rows: unknown[][]) {
  const subject = table.startsWith("usage_consumer_") ? "consumer_id" : "key_id";
  return db
    .prepare(
      `INSERT INTO ${table} (${period}, ${subject}, outcome, count)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?) WHERE true
       ON CONFLICT (${subject}, ${period}, outcome) DO UPDATE SET count = ${table}.count + excluded.count`,
    )
    .bind(JSON.stringify(rows));
}

/** Hourly rows `[hour, subject, outcome, count]` summed into daily rows `[day, subject, outcome, count]`. */
function byDay(hourly: readonly [number, string, string, number][]): [string, string, string, number][] {
  const daily = new Map<string, [string, string, string, number]>();
  for (const [hour, subject, outcome, count] of hourly) {
    const day = utcDay(hour);
    const k = `${day}\n${subject}\n${outcome}`;
    const entry = daily.get(k) ?? [day, subject, outcome, 0];
    entry[3] += count;
    daily.set(k, entry);
  }
  return [...daily.values()];
}

/**
 * The batch's counts in one D1 transaction: hourly and daily rollups per key and per consumer (left out when
 * the batch counted no known key), networks seen, and the key rows' usage.
 */
async function writeCounts(
  db: D1Database,
  batch: PendingBatch,
  rows: readonly CountRow[],
  observed: Map<string, Observation[]>,
  keys: KeyOwners,
) {
  const hourly = rows.map((r): [number, string, string, number] => [r.hour, r.keyId, r.outcome, r.count]);
  const ownerOf = new Map([...keys].map(([id, key]) => [id, key.owner_id]));
  const consumerHourly = consumerRows(rows, ownerOf).map((r): [number, string, string, number] => [
    r.hour,
    r.consumerId,
    r.outcome,
    r.count,
  ]);
  const perConsumer =
    consumerHourly.length === 0
      ? []
      : [
          addToRollup(db, "usage_consumer_hourly", "hour", consumerHourly),
          addToRollup(db, "usage_consumer_daily", "day", byDay(consumerHourly)),
        ];
  const networkRows: [string, string, number][] = [];
  for (const [keyId, list] of observed) {
    for (const o of list) {
      const n = networksOf(o);
      for (const name of [n.ip, n.asn, n.country]) if (name) networkRows.push([keyId, name, batch.lastAt]);
    }
  }
  await db.batch([
    addToRollup(db, "usage_hourly", "hour", hourly),
    addToRollup(db, "usage_daily", "day", byDay(hourly)),
    ...perConsumer,
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

/**
 * Runs the anomaly rules for the keys a batch counted and for their consumers, and raises (or refreshes) an
 * alert per finding.
 */
async function raiseAlerts(env: Cloudflare.Env, waitUntil: WaitUntil, seen: Seen): Promise<void> {
  const { keyIds, observed, history, keys, now } = seen;
  if (keyIds.length === 0) return;
  const loaded = loadMonitoringConfig(env);
  if (!loaded.ok) {
    log("error", "monitoring.rules_skipped", { degraded: "config_invalid", setting: loaded.setting });
    return;
  }
  const config = loaded.config;
  const db = env.DB;
  const hour = now - (now % HOUR_MS);
  const consumerIds = [...new Set([...keys.values()].map((k) => k.owner_id))];
  const [hourCounts, baselines, consumerHours] = await Promise.all([
    readHourCounts(db, keyIds, hour),
    readBaselines(db, keyIds, hour),
    consumerIds.length === 0 ? new Map<string, ConsumerHour>() : readConsumerHours(db, consumerIds, hour),
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
      await raiseAlert(env, waitUntil, { keyId, ownerId: key.owner_id }, finding, now, config.dedupeMs);
  }
  for (const [consumerId, consumer] of consumerHours) {
    for (const finding of evaluateConsumerRules(consumer, config))
      await raiseAlert(env, waitUntil, { keyId: null, ownerId: consumerId }, finding, now, config.dedupeMs);
  }
}
