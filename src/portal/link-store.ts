/**
 * The `portal_links` table (migrations/0011_portal_links.sql): all its SQL. A link's token is 256 random bits
 * given only to the platform that asked for it (in the link's URL); the row is keyed by its SHA-256, so neither
 * a read of D1 nor a log line holds anything that opens a portal.
 */
import { type AuditEntry, auditStatement } from "../audit/audit-log";
import { randomToken, sessionIdHash } from "../console/session-store";

export interface PortalLink {
  id: string;
  consumerId: string;
  returnUrl: string | null;
  expiresAt: number;
}

/**
 * How long a used or lapsed link's row is kept before a new link's insert removes it. Past its end a row opens
 * nothing (the exchange checks `expires_at`); the audit row of its creation stays.
 */
const LAPSED_LINKS_KEPT_MS = 24 * 60 * 60 * 1000;

/** Stores a new link with its audit row in one batch; answers its token (for the URL only) and its id. */
export async function insertPortalLink(
  db: D1Database,
  link: { consumerId: string; returnUrl: string | null; createdBy: string; now: number; expiresAt: number },
  audit: (id: string) => AuditEntry,
): Promise<{ token: string; id: string }> {
  const token = randomToken();
  const id = `pl_${randomToken().slice(0, 22)}`;
  await db.batch([
    db.prepare("DELETE FROM portal_links WHERE expires_at <= ?1").bind(link.now - LAPSED_LINKS_KEPT_MS),
    db
      .prepare(
        `INSERT INTO portal_links (id, token_hash, consumer_id, return_url, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`,
      )
      .bind(id, await sessionIdHash(token), link.consumerId, link.returnUrl, link.createdBy, link.now, link.expiresAt),
    auditStatement(db, { type: "portal_session", id }, audit(id)),
  ]);
  return { token, id };
}

/**
 * Spends a link: the one conditional UPDATE marks it used if it is unused and not past its end, so of two
 * visits with one token (a replay, two tabs) exactly one gets the link. Null for any other token.
 */
export async function spendPortalLink(db: D1Database, token: string, now: number): Promise<PortalLink | null> {
  const row = await db
    .prepare(
      `UPDATE portal_links SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2
       RETURNING id, consumer_id, return_url, expires_at`,
    )
    .bind(await sessionIdHash(token), now)
    .first<{ id: string; consumer_id: string; return_url: string | null; expires_at: number }>();
  if (!row) return null;
  return { id: row.id, consumerId: row.consumer_id, returnUrl: row.return_url, expiresAt: row.expires_at };
}

/** Where the portal of this link sends its consumer back to ("Back to …"), or null. */
export async function findReturnUrl(db: D1Database, linkId: string): Promise<string | null> {
  const row = await db
    .prepare("SELECT return_url FROM portal_links WHERE id = ?1")
    .bind(linkId)
    .first<{ return_url: string | null }>();
  return row?.return_url ?? null;
}
