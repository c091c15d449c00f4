/**
 * Retention of keys that can no longer work, a step of the scheduled job (./scheduled.ts); every expired or
 * revoked key goes through it, short-lived (`expires_in_seconds`) or not.
 *
 * 1. A lineage none of whose keys can work again has its Durable Object's storage cleared: its counters,
 *    lease horizons and copies of its keys would otherwise stay forever, one object per CI job's key. The
 *    object is one per lineage (a key and its successors), so a successor still in use, or a predecessor
 *    still in its grace, keeps it. The object refuses when it knows of a newer change (src/limits/key-object.ts).
 * 2. A key row is deleted, with its usage rollups, networks and lifecycle marks, EXPIRED_KEY_RETENTION_DAYS
 *    after its expiry; its audit rows stay (the audit trail outlives the key), as do leak events and alerts.
 *    Until then the row answers the admin API and the audit trail's questions about the key.
 *
 * Both are bounded per run; a backlog drains over the following runs. Idempotent: a lineage is recorded as
 * cleared for the moment it ended, and a pruned row is gone.
 */
import { listEndedLineages, pruneExpiredKeys, recordClearedLineages, type EndedLineage } from "../keys/store";
import { log } from "../util/log";
import { DAY_MS } from "../util/time";

/** Lineage objects cleared per run: each is a Durable Object call, within a Cron run's subrequest budget. */
const LINEAGE_CLEAR_BATCH = 50;
/** Key rows pruned per run (each with its per-key rows, in one D1 batch). */
const KEY_PRUNE_BATCH = 500;

export interface RetentionSummary {
  cleared_lineages: number;
  pruned_keys: number;
}

/** Runs both steps; `retentionDays` null (a malformed setting) prunes no row rather than guessing. */
export async function runKeyRetention(
  env: Cloudflare.Env,
  now: number,
  retentionDays: number | null,
): Promise<RetentionSummary> {
  const cleared = await clearEndedLineages(env, now);
  const pruned =
    retentionDays === null ? 0 : await pruneExpiredKeys(env.DB, now - retentionDays * DAY_MS, KEY_PRUNE_BATCH);
  return { cleared_lineages: cleared, pruned_keys: pruned };
}

async function clearEndedLineages(env: Cloudflare.Env, now: number): Promise<number> {
  const ended = await listEndedLineages(env.DB, now, LINEAGE_CLEAR_BATCH);
  if (ended.length === 0) return 0;
  const outcomes = await Promise.allSettled(
    ended.map((l) => env.KEY_OBJECT.get(env.KEY_OBJECT.idFromName(l.lineage_id)).clearLineage()),
  );
  const cleared: EndedLineage[] = [];
  outcomes.forEach((outcome, i) => {
    if (outcome.status === "fulfilled" && outcome.value) cleared.push(ended[i]!);
    else if (outcome.status === "rejected") {
      // Tried again next run: the lineage is not recorded as cleared.
      log("warn", "scheduled.clear_lineage_failed", { error: (outcome.reason as Error).name });
    }
  });
  await recordClearedLineages(env.DB, cleared, now);
  return cleared.length;
}
