/**
 * The `console_sessions` and `console_sign_ins` tables (migrations/0010_console_sessions.sql): all their SQL.
 * A session id is 256 random bits, given only to the browser; the row is keyed by its SHA-256, so neither a
 * read of D1 nor a log line holds anything that signs anyone in.
 */
import type { Actor } from "../operations/actor";
import { toHex } from "../util/hex";

/** Who a session is for: the platform team's console, or one consumer's portal. */
export type SessionKind = "console" | "portal";

export interface Session {
  idHash: string;
  kind: SessionKind;
  actor: Actor;
  credentialFingerprint: string | null;
  csrfToken: string;
  spentForms: string[];
  createdAt: number;
  lastSeenAt: number;
  idleTimeoutMs: number;
  expiresAt: number;
}

interface SessionRow {
  id_hash: string;
  kind: SessionKind;
  actor: string;
  credential_fingerprint: string | null;
  csrf_token: string;
  spent_forms: string;
  created_at: number;
  last_seen_at: number;
  idle_timeout_ms: number;
  expires_at: number;
}

/** 32 random bytes as base64url: session ids, CSRF tokens and one-time form ids. */
export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replaceAll("=", "");
}

/** The SHA-256 (hex) a session id, or a portal link's token, is stored under. */
export async function sessionIdHash(id: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id))));
}

export interface NewSession {
  kind: SessionKind;
  actor: Actor;
  credentialFingerprint: string | null;
  now: number;
  idleTimeoutMs: number;
  expiresAt: number;
}

/** Stores a new session; answers its id (for the cookie only) and the stored session. */
export async function insertSession(db: D1Database, s: NewSession): Promise<{ id: string; session: Session }> {
  const id = randomToken();
  const session: Session = {
    idHash: await sessionIdHash(id),
    kind: s.kind,
    actor: s.actor,
    credentialFingerprint: s.credentialFingerprint,
    csrfToken: randomToken(),
    spentForms: [],
    createdAt: s.now,
    lastSeenAt: s.now,
    idleTimeoutMs: s.idleTimeoutMs,
    expiresAt: s.expiresAt,
  };
  await db
    .prepare(
      `INSERT INTO console_sessions (id_hash, kind, actor, credential_fingerprint, csrf_token, created_at, last_seen_at,
         idle_timeout_ms, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)`,
    )
    .bind(
      session.idHash,
      s.kind,
      JSON.stringify(s.actor),
      s.credentialFingerprint,
      session.csrfToken,
      s.now,
      s.idleTimeoutMs,
      s.expiresAt,
    )
    .run();
  return { id, session };
}

/** The live session of this id and kind, or null (unknown, another kind, idle too long or past its end). */
export async function findLiveSession(
  db: D1Database,
  id: string,
  kind: SessionKind,
  now: number,
): Promise<Session | null> {
  const row = await db
    .prepare("SELECT * FROM console_sessions WHERE id_hash = ?1 AND kind = ?2")
    .bind(await sessionIdHash(id), kind)
    .first<SessionRow>();
  if (!row || now >= row.expires_at || now - row.last_seen_at >= row.idle_timeout_ms) return null;
  return {
    idHash: row.id_hash,
    kind: row.kind,
    actor: JSON.parse(row.actor) as Actor,
    credentialFingerprint: row.credential_fingerprint,
    csrfToken: row.csrf_token,
    spentForms: JSON.parse(row.spent_forms) as string[],
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    idleTimeoutMs: row.idle_timeout_ms,
    expiresAt: row.expires_at,
  };
}

export async function touchSession(db: D1Database, idHash: string, now: number): Promise<void> {
  await db.prepare("UPDATE console_sessions SET last_seen_at = ?2 WHERE id_hash = ?1").bind(idHash, now).run();
}

export async function deleteSession(db: D1Database, idHash: string): Promise<void> {
  await db.prepare("DELETE FROM console_sessions WHERE id_hash = ?1").bind(idHash).run();
}

/** Sessions past their end or idle too long: removed at each sign-in, so the table holds live ones only. */
export async function deleteLapsedSessions(db: D1Database, now: number): Promise<void> {
  await db
    .prepare("DELETE FROM console_sessions WHERE expires_at <= ?1 OR last_seen_at + idle_timeout_ms <= ?1")
    .bind(now)
    .run();
}

/** One-time form ids remembered per session: a reload of a create's answer cannot mint a second key. */
const SPENT_FORMS_KEPT = 32;

/**
 * Marks a one-time form id as used; false if it was already (a resubmitted form). Conditional on the list
 * read, so of two concurrent submissions of one form exactly one wins.
 */
export async function spendForm(db: D1Database, session: Session, formId: string): Promise<boolean> {
  if (session.spentForms.includes(formId)) return false;
  const spent = [...session.spentForms, formId].slice(-SPENT_FORMS_KEPT);
  const result = await db
    .prepare("UPDATE console_sessions SET spent_forms = ?3 WHERE id_hash = ?1 AND spent_forms = ?2")
    .bind(session.idHash, JSON.stringify(session.spentForms), JSON.stringify(spent))
    .run();
  if (result.meta.changes !== 1) return false;
  session.spentForms = spent;
  return true;
}

export type SignInMethod = "token" | "access" | "link";
export type SignInOutcome = "signed_in" | "refused" | "throttled";

export interface SignInRecord {
  at: number;
  kind: SessionKind;
  method: SignInMethod;
  outcome: SignInOutcome;
  actor: string | null;
  client: string | null;
  requestId: string;
}

export async function recordSignIn(db: D1Database, r: SignInRecord): Promise<void> {
  await db
    .prepare(
      "INSERT INTO console_sign_ins (at, kind, method, outcome, actor, client, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(r.at, r.kind, r.method, r.outcome, r.actor, r.client, r.requestId)
    .run();
}

/** The latest sign-in attempts, newest first (the audit page). */
export async function latestSignIns(db: D1Database, limit: number): Promise<SignInRecord[]> {
  const { results } = await db
    .prepare(
      "SELECT at, kind, method, outcome, actor, client, request_id AS requestId FROM console_sign_ins ORDER BY id DESC LIMIT ?1",
    )
    .bind(limit)
    .all<SignInRecord>();
  return results;
}
