/**
 * The `leak_events` table (migrations/0002_leaks.sql, 0009_credential_leaks.sql): one row per report of a
 * key or an admin credential found where it should not be (`key_id` or `credential_id`; neither: no match). The fingerprint is unique, so a replayed report finds its row and changes nothing. Rows never
 * hold a key or its hash: `fingerprint` is the report's own id (or a hash mixing the key with where it was
 * found) and `location` has every key-shaped string redacted before it is written.
 */
import { jsonArrays } from "../util/json-chunks";

export type LeakSource = "github" | "gitleaks" | "trufflehog" | "scanner" | "gateway_query";

/**
 * The same for an admin credential, where `revoked_at` is set once D1 has its revocation.
 *
 * - `revoked`: this report revoked the key; `revoked_at` is set once D1 and the key's object both have it
 *   (a `revoked` row whose `revoked_at` is still NULL is a revocation in progress, resumed by a replay);
 * - `already_revoked`: the key was revoked before this report;
 * - `recorded`: a live key, left live by policy (the owner is told);
 * - `no_match`: the reported string is no key of this authorizer.
 */
export const LEAK_OUTCOMES = ["revoked", "already_revoked", "recorded", "no_match"] as const;
export type LeakOutcome = (typeof LEAK_OUTCOMES)[number];

export interface LeakEventRow {
  fingerprint: string;
  key_id: string | null;
  credential_id: string | null;
  outcome: LeakOutcome;
  reported_at: number;
  revoked_at: number | null;
}

export interface NewLeakEvent {
  keyId: string | null;
  credentialId: string | null;
  source: LeakSource;
  fingerprint: string;
  location: string | null;
  reportedAt: number;
  outcome: LeakOutcome;
}

/** The events already recorded under these fingerprints, by fingerprint (one statement per JSON chunk). */
export async function findLeakEvents(
  db: D1Database,
  fingerprints: readonly string[],
): Promise<Map<string, LeakEventRow>> {
  const found = new Map<string, LeakEventRow>();
  if (fingerprints.length === 0) return found;
  const statements = jsonArrays(fingerprints).map((list) =>
    db
      .prepare(
        "SELECT fingerprint, key_id, credential_id, outcome, reported_at, revoked_at FROM leak_events WHERE fingerprint IN (SELECT value FROM json_each(?))",
      )
      .bind(list),
  );
  for (const { results } of await db.batch<LeakEventRow>(statements))
    for (const row of results) found.set(row.fingerprint, row);
  return found;
}

/**
 * Inserts the events whose fingerprints are not recorded yet, in one statement per JSON chunk; answers the
 * fingerprints this call inserted (a concurrent replay that got there first keeps its row).
 */
export async function insertLeakEvents(db: D1Database, events: readonly NewLeakEvent[]): Promise<Set<string>> {
  const inserted = new Set<string>();
  if (events.length === 0) return inserted;
  const rows = events.map((e) => [
    e.keyId,
    e.credentialId,
    e.source,
    e.fingerprint,
    e.location,
    e.reportedAt,
    e.outcome,
  ]);
  const statements = jsonArrays(rows).map((list) =>
    db
      .prepare(
        // `WHERE true` keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
        `INSERT INTO leak_events (key_id, credential_id, source, fingerprint, location, reported_at, outcome)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6 FROM json_each(?) WHERE true
         ON CONFLICT (fingerprint) DO NOTHING RETURNING fingerprint`,
      )
      .bind(list),
  );
  for (const { results } of await db.batch<{ fingerprint: string }>(statements))
    for (const row of results) inserted.add(row.fingerprint);
  return inserted;
}

/** Moves an event from one outcome to another; true if it was in `from` (so only one caller wins). */
export async function changeLeakOutcome(
  db: D1Database,
  fingerprint: string,
  from: LeakOutcome,
  to: LeakOutcome,
): Promise<boolean> {
  const result = await db
    .prepare("UPDATE leak_events SET outcome = ? WHERE fingerprint = ? AND outcome = ?")
    .bind(to, fingerprint, from)
    .run();
  return result.meta.changes > 0;
}

/**
 * Records when the revocations completed (D1 and the key's object; D1 for a credential). Answers the fingerprints this call marked:
 * of two overlapping deliveries completing one revocation, only one marks it, and only that one tells the owner.
 */
export async function markLeaksRevoked(
  db: D1Database,
  fingerprints: readonly string[],
  at: number,
): Promise<Set<string>> {
  const marked = new Set<string>();
  if (fingerprints.length === 0) return marked;
  const statements = jsonArrays(fingerprints).map((list) =>
    db
      .prepare(
        `UPDATE leak_events SET revoked_at = ?2
         WHERE fingerprint IN (SELECT value FROM json_each(?1)) AND outcome = 'revoked' AND revoked_at IS NULL RETURNING fingerprint`,
      )
      .bind(list, at),
  );
  for (const { results } of await db.batch<{ fingerprint: string }>(statements))
    for (const row of results) marked.add(row.fingerprint);
  return marked;
}

/** A leak event as the list reads it: the row with the key's consumer (null when it matched no key). */
export interface ListedLeakEvent {
  id: number;
  key_id: string | null;
  consumer_id: string | null;
  source: LeakSource;
  location: string | null;
  reported_at: number;
  revoked_at: number | null;
  outcome: LeakOutcome;
}

/**
 * Leak events newest first (by id), a page at a time: `before` is the last id of the previous page. With
 * `consumers` (a narrow principal's), only events of those consumers' keys: one that matched no key belongs
 * to no consumer and is left out.
 */
export async function findLeakEventsPage(
  db: D1Database,
  filter: { keyId?: string; before?: number; limit: number; consumers: readonly string[] | null },
): Promise<ListedLeakEvent[]> {
  const { results } = await db
    .prepare(
      `SELECT e.id, e.key_id, k.owner_id AS consumer_id, e.source, e.location, e.reported_at, e.revoked_at, e.outcome
       FROM leak_events e LEFT JOIN api_keys k ON k.id = e.key_id
       WHERE (?1 IS NULL OR e.key_id = ?1) AND (?2 IS NULL OR e.id < ?2)
         AND (?3 IS NULL OR k.owner_id IN (SELECT value FROM json_each(?3)))
       ORDER BY e.id DESC LIMIT ?4`,
    )
    .bind(
      filter.keyId ?? null,
      filter.before ?? null,
      filter.consumers === null ? null : JSON.stringify(filter.consumers),
      filter.limit,
    )
    .all<ListedLeakEvent>();
  return results;
}
