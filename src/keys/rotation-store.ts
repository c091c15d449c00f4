/**
 * D1 statements of a rotation (the rest of `api_keys`' SQL is in ./store.ts): writing one, the rotation columns
 * the record leaves out, and starting a deferred grace. A rotation is conditional on the state it was decided
 * on, so two concurrent rotations of one key still yield exactly one successor.
 *
 * `grace_deferred_ms` and `rotation_token` (migrations/0008_deferred_grace.sql) are not in KeyRecord: only a
 * rotation and a grace start read them, and the cached record and the key's object have no use for them.
 */
import { auditIfChanged, keySubject, type AuditEntry } from "../audit/audit-log";
import { effectiveStatus, recordToColumns, type KeyRecord, type StoredStatus } from "./key-record";
import { KEY_COLUMNS, liveAt } from "./store";

/** A rotated key's successor as it is now. */
interface SuccessorState {
  id: string;
  status: StoredStatus;
  /** Whether it admits requests now (the "live key" rule). */
  live: boolean;
  /** Set when the successor was itself rotated. */
  rotatedTo: string | null;
}

/** What a key's rotation columns hold, and its successor (the key `rotated_to` names) as it is now. */
export interface RotationState {
  /** The `rotation_token` of the rotation that minted the current successor; null if it was given none. */
  rotationToken: string | null;
  /** The grace period (ms) a deferred rotation asked for; null unless the key was rotated with `defer_grace`. */
  graceDeferredMs: number | null;
  successor: SuccessorState | null;
}

/** The key's rotation state at `now`; null if no key has the id. */
export async function findRotationState(db: D1Database, id: string, now: number): Promise<RotationState | null> {
  const row = await db
    .prepare(
      `SELECT k.rotation_token, k.grace_deferred_ms, s.id AS s_id, s.status AS s_status, s.expires_at AS s_expires_at,
              s.grace_until AS s_grace_until, s.rotated_to AS s_rotated_to
       FROM api_keys k LEFT JOIN api_keys s ON s.id = k.rotated_to WHERE k.id = ?1`,
    )
    .bind(id)
    .first<{
      rotation_token: string | null;
      grace_deferred_ms: number | null;
      s_id: string | null;
      s_status: StoredStatus | null;
      s_expires_at: number | null;
      s_grace_until: number | null;
      s_rotated_to: string | null;
    }>();
  if (!row) return null;
  const successor =
    row.s_id === null || row.s_status === null || row.s_expires_at === null
      ? null
      : {
          id: row.s_id,
          status: row.s_status,
          live:
            effectiveStatus(
              { status: row.s_status, expires_at: row.s_expires_at, grace_until: row.s_grace_until },
              now,
            ) === "active",
          rotatedTo: row.s_rotated_to,
        };
  return { rotationToken: row.rotation_token, graceDeferredMs: row.grace_deferred_ms, successor };
}

/**
 * What a rotation replaces, decided on the state read before it and checked again in its batch:
 * - `first`: the key was never rotated;
 * - `after_revoked_successor`: its deferred grace never started and the successor is revoked (say, the
 *   secret manager's write failed), so the key is still the current one;
 * - `replace_successor`: a retry with the rotation's own `rotation_token` while its successor is live and
 *   the grace not started: the successor's secret is lost, so it is revoked in the same batch.
 */
export type RotationBasis =
  | { kind: "first" }
  | { kind: "after_revoked_successor"; successorId: string }
  | { kind: "replace_successor"; successorId: string; rotationToken: string; deferred: boolean };

export interface RotationWrite {
  id: string;
  now: number;
  basis: RotationBasis;
  /** The old key's grace end; null while a deferred grace waits, "keep" to leave the one it has. */
  graceUntil: number | null | "keep";
  /** For a deferred rotation, the grace period to start later (ms); else null. */
  graceDeferredMs: number | null;
  rotationToken: string | null;
}

/** The highest parameter each basis's statement uses. */
const BASIS_PARAMETERS: Record<RotationBasis["kind"], number> = {
  first: 6,
  after_revoked_successor: 7,
  replace_successor: 8,
};

/** Why the predecessor may be rotated, as SQL (binding ?7 = its expected `rotated_to`, ?8 = the token). */
function basisCondition(basis: RotationBasis): string {
  switch (basis.kind) {
    case "first":
      return "rotated_to IS NULL";
    case "after_revoked_successor":
      return `rotated_to = ?7 AND grace_deferred_ms IS NOT NULL AND grace_until IS NULL
              AND EXISTS (SELECT 1 FROM api_keys s WHERE s.id = ?7 AND s.status = 'revoked')`;
    case "replace_successor":
      return `rotated_to = ?7 AND rotation_token = ?8 AND (grace_deferred_ms IS NOT NULL) = ${basis.deferred ? 1 : 0}
              AND (grace_deferred_ms IS NULL OR grace_until IS NULL)
              AND EXISTS (SELECT 1 FROM api_keys s WHERE s.id = ?7 AND s.rotated_to IS NULL AND ${liveAt("?6", "s.")})`;
  }
}

/**
 * Rotates a key in one batch: the predecessor gets `rotated_to` and its grace (or a deferred one), then —
 * only if that matched its basis (live, and rotated as the basis says) — a replaced successor is revoked,
 * the new successor inserted and the audit rows written. With a `gate` (the consumer's statements, as for
 * `insertKey`), nothing is written unless its last statement matched (`gated` says it did not).
 */
export async function writeRotation(
  db: D1Database,
  predecessor: RotationWrite,
  successor: KeyRecord,
  successorHash: string,
  audits: { predecessor: AuditEntry; successor: AuditEntry; replaced: { audit: AuditEntry; reason: string } | null },
  gate: D1PreparedStatement[] = [],
): Promise<{ rotated: boolean; gated: boolean }> {
  const { basis } = predecessor;
  const columns = { ...recordToColumns(successor), key_hash: successorHash };
  const graceColumn = predecessor.graceUntil === "keep" ? "grace_until" : "?2";
  const rotate = db
    .prepare(
      `UPDATE api_keys SET rotated_to = ?1, grace_until = ${graceColumn}, grace_deferred_ms = ?3, rotation_token = ?4,
         version = version + 1
       WHERE id = ?5 AND ${liveAt("?6")} AND ${basisCondition(basis)}${gate.length > 0 ? " AND changes() > 0" : ""}`,
    )
    .bind(
      ...[
        successor.id,
        predecessor.graceUntil === "keep" ? null : predecessor.graceUntil,
        predecessor.graceDeferredMs,
        predecessor.rotationToken,
        predecessor.id,
        predecessor.now,
        basis.kind === "first" ? null : basis.successorId,
        basis.kind === "replace_successor" ? basis.rotationToken : null,
      ].slice(0, BASIS_PARAMETERS[basis.kind]), // D1 refuses more values than the statement's highest ?N
    );
  const replaced =
    basis.kind === "replace_successor" && audits.replaced
      ? {
          id: basis.successorId,
          revoke: db
            .prepare(
              `UPDATE api_keys SET status = 'revoked', revoked_at = ?1, revoke_reason = ?2, version = version + 1
               WHERE id = ?3 AND status != 'revoked' AND changes() > 0`,
            )
            .bind(predecessor.now, audits.replaced.reason, basis.successorId),
          audit: audits.replaced.audit,
        }
      : null;
  const results = await db.batch([
    ...gate,
    rotate,
    ...(replaced ? [replaced.revoke] : []),
    db
      .prepare(
        `INSERT INTO api_keys (${KEY_COLUMNS.join(", ")}) SELECT ${KEY_COLUMNS.map(() => "?").join(", ")} WHERE changes() > 0`,
      )
      .bind(...KEY_COLUMNS.map((c) => columns[c])),
    auditIfChanged(db, keySubject(predecessor.id), audits.predecessor),
    auditIfChanged(db, keySubject(successor.id), audits.successor),
    ...(replaced ? [auditIfChanged(db, keySubject(replaced.id), replaced.audit)] : []),
  ]);
  const gated = gate.length > 0 && (results[gate.length - 1]?.meta.changes ?? 0) === 0;
  return { rotated: (results[gate.length]?.meta.changes ?? 0) > 0, gated };
}

/**
 * Starts the deferred grace of a rotated key: `grace_until` set, if the key is live, was rotated with
 * `defer_grace`, its grace has not started and its successor is live. Matches nothing otherwise (a started
 * grace is left as it is, and no second audit row is written).
 */
export async function writeGraceStart(
  db: D1Database,
  key: { id: string; successorId: string; graceUntil: number; now: number },
  audit: AuditEntry,
): Promise<{ started: boolean }> {
  const [result] = await db.batch([
    db
      .prepare(
        `UPDATE api_keys SET grace_until = ?1, version = version + 1
         WHERE id = ?2 AND rotated_to = ?3 AND grace_deferred_ms IS NOT NULL AND grace_until IS NULL AND ${liveAt("?4")}
           AND EXISTS (SELECT 1 FROM api_keys s WHERE s.id = ?3 AND ${liveAt("?4", "s.")})`,
      )
      .bind(key.graceUntil, key.id, key.successorId, key.now),
    auditIfChanged(db, keySubject(key.id), audit),
  ]);
  return { started: (result?.meta.changes ?? 0) > 0 };
}
