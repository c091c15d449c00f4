/**
 * The `leak_events` table (migrations/0002_leaks.sql): one row per report of a key found where it should
 * not be. The fingerprint is unique, so a replayed report finds its row and changes nothing. Rows never
 * hold a key or its hash: `fingerprint` is the report's own id (or a hash mixing the key with where it was
 * found) and `location` has every key-shaped string redacted before it is written.
 */

export type LeakSource = "github" | "gitleaks" | "trufflehog" | "scanner" | "gateway_query";

/**
 * - `revoked`: this report revoked the key; `revoked_at` is set once D1 and the key's object both have it
 *   (a `revoked` row whose `revoked_at` is still NULL is a revocation in progress, resumed by a replay);
 * - `already_revoked`: the key was revoked before this report;
 * - `recorded`: a live key, left live by policy (the owner is told);
 * - `no_match`: the reported string is no key of this authorizer.
 */
export type LeakOutcome = "revoked" | "already_revoked" | "recorded" | "no_match";

export interface LeakEventRow {
  fingerprint: string;
  key_id: string | null;
  outcome: LeakOutcome;
  reported_at: number;
  revoked_at: number | null;
}

export interface NewLeakEvent {
  keyId: string | null;
  source: LeakSource;
  fingerprint: string;
  location: string | null;
  reportedAt: number;
  outcome: LeakOutcome;
}

export async function findLeakEvent(db: D1Database, fingerprint: string): Promise<LeakEventRow | null> {
  return db
    .prepare("SELECT fingerprint, key_id, outcome, reported_at, revoked_at FROM leak_events WHERE fingerprint = ?")
    .bind(fingerprint)
    .first<LeakEventRow>();
}

/** Inserts the event unless its fingerprint is already recorded; true if this call inserted it. */
export async function insertLeakEvent(db: D1Database, event: NewLeakEvent): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO leak_events (key_id, source, fingerprint, location, reported_at, outcome)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING`,
    )
    .bind(event.keyId, event.source, event.fingerprint, event.location, event.reportedAt, event.outcome)
    .run();
  return result.meta.changes > 0;
}

/** Moves an event from one outcome to another; true if it was in `from` (so only one caller wins). */
export async function changeLeakOutcome(db: D1Database, fingerprint: string, from: LeakOutcome, to: LeakOutcome): Promise<boolean> {
  const result = await db
    .prepare("UPDATE leak_events SET outcome = ? WHERE fingerprint = ? AND outcome = ?")
    .bind(to, fingerprint, from)
    .run();
  return result.meta.changes > 0;
}

/** Records when the revocation completed (D1 and the key's object). */
export async function markLeakRevoked(db: D1Database, fingerprint: string, at: number): Promise<void> {
  await db
    .prepare("UPDATE leak_events SET revoked_at = ? WHERE fingerprint = ? AND outcome = 'revoked' AND revoked_at IS NULL")
    .bind(at, fingerprint)
    .run();
}
