/**
 * What a leak report can be about: a key of this authorizer, or one of its scoped admin credentials. Both are
 * found by the SHA-256 of the reported string, each in its own table; a string the grammar did not accept
 * under this deployment's vendor part carries no hash and is looked up nowhere. A leaked credential is told
 * to whoever minted it (`created_by`), as a leaked key is told to its owner.
 */
import { findCredentialsByHashes } from "../credentials/store";
import type { CredentialRecord } from "../credentials/credential-record";
import type { WaitUntil } from "../http/context";
import type { KeyRecord } from "../keys/key-record";
import { findKeysByHashes } from "../keys/store";
import { notifyOwner } from "../notify/webhook";
import type { LeakSource } from "./events";

export type LeakedSubject = { kind: "key"; record: KeyRecord } | { kind: "credential"; record: CredentialRecord };

/** Where to look a report up: the hash of a string that parsed as a key, as a credential, or (scanner) either. */
export interface SubjectHashes {
  /** SHA-256 hex of the reported string when it may be a key of this deployment; null otherwise. */
  keyHash: string | null;
  /** SHA-256 hex of the reported string when it may be an admin credential of this deployment; null otherwise. */
  credentialHash: string | null;
}

/** Each report's key or credential, or null: one set-based read per table (none for a table with no hash). */
export async function findLeakedSubjects(
  db: D1Database,
  reports: readonly SubjectHashes[],
): Promise<(LeakedSubject | null)[]> {
  const [keys, credentials] = await Promise.all([
    findKeysByHashes(
      db,
      reports.flatMap((r) => (r.keyHash ? [r.keyHash] : [])),
    ),
    findCredentialsByHashes(
      db,
      reports.flatMap((r) => (r.credentialHash ? [r.credentialHash] : [])),
    ),
  ]);
  return reports.map((r) => {
    const key = r.keyHash ? keys.get(r.keyHash) : undefined;
    if (key) return { kind: "key", record: key };
    const credential = r.credentialHash ? credentials.get(r.credentialHash) : undefined;
    return credential ? { kind: "credential", record: credential } : null;
  });
}

/** Key and credential ids never collide (`key_…`, `cred_…`), so one map can hold both. */
export const subjectId = (subject: LeakedSubject): string => subject.record.id;

export const isRevoked = (subject: LeakedSubject): boolean =>
  subject.kind === "key" ? subject.record.status === "revoked" : subject.record.revoked_at !== null;

/** The event's columns for this subject. */
export const subjectColumns = (subject: LeakedSubject | null) => ({
  keyId: subject?.kind === "key" ? subject.record.id : null,
  credentialId: subject?.kind === "credential" ? subject.record.id : null,
});

export interface LeakNotice {
  source: LeakSource;
  location: string | null;
  revoked: boolean;
  reportedAt: number;
  /** The key notice's type: "key.leaked", or "key.exposed" for the gateway. */
  keyType: "key.leaked" | "key.exposed";
}

/**
 * Tells the key's owner, or the credential's creator: ids, name and hint (the last four characters), never
 * the secret or its hash.
 */
export function notifyLeak(env: Cloudflare.Env, waitUntil: WaitUntil, subject: LeakedSubject, notice: LeakNotice) {
  const { source, location, revoked, reportedAt } = notice;
  const { record } = subject;
  if (subject.kind === "key") {
    notifyOwner(env, waitUntil, {
      type: notice.keyType,
      owner_id: subject.record.owner_id,
      key_id: record.id,
      data: { source, location, revoked, hint: record.hint, reported_at: reportedAt },
    });
    return;
  }
  const credential = subject.record;
  notifyOwner(env, waitUntil, {
    type: notice.keyType === "key.exposed" ? "credential.exposed" : "credential.leaked",
    credential_id: credential.id,
    created_by: credential.created_by,
    data: { source, location, revoked, name: credential.name, hint: credential.hint, reported_at: reportedAt },
  });
}
