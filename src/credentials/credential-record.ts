/**
 * A scoped admin credential: a principal narrower than ADMIN_TOKEN, holding some permissions and, optionally,
 * only some consumers. What the admin API answers about one (never its secret or hash).
 */
import * as z from "zod";
import { BASE62_CLASS, randomBase62 } from "../keys/format";
import { ADMIN_PERMISSIONS, type AdminPermission } from "../operations/permissions";
import { isoTime, isoTimeOrNull } from "../util/time";

const CREDENTIAL_ID_RANDOM_LENGTH = 22;
export const CREDENTIAL_ID_SOURCE = `cred_${BASE62_CLASS}{${CREDENTIAL_ID_RANDOM_LENGTH}}`;
export const CREDENTIAL_ID_PATTERN = new RegExp(`^${CREDENTIAL_ID_SOURCE}$`);

export const newCredentialId = (): string => `cred_${randomBase62(CREDENTIAL_ID_RANDOM_LENGTH)}`;

export interface CredentialRecord {
  id: string;
  name: string;
  hint: string;
  permissions: AdminPermission[];
  /** The consumers it may act on; null: every consumer. */
  consumers: string[] | null;
  created_by: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
  last_used_at: number | null;
}

/** A credential works until it is revoked or expires; nothing else about it changes. */
export const credentialIsLive = (record: CredentialRecord, now: number): boolean =>
  record.revoked_at === null && now < record.expires_at;

export const credentialViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  hint: z.string(),
  status: z.enum(["active", "revoked", "expired"]),
  operations: z.array(z.enum(ADMIN_PERMISSIONS)),
  consumers: z.array(z.string()).nullable(),
  created_by: z.string(),
  created_at: z.iso.datetime(),
  expires_at: z.iso.datetime(),
  revoked_at: z.iso.datetime().nullable(),
  revoke_reason: z.string().nullable(),
  last_used_at: z.iso.datetime().nullable(),
});
export type CredentialView = z.output<typeof credentialViewSchema>;

export function toCredentialView(record: CredentialRecord, now: number): CredentialView {
  return {
    id: record.id,
    name: record.name,
    hint: record.hint,
    status: record.revoked_at !== null ? "revoked" : now < record.expires_at ? "active" : "expired",
    operations: record.permissions,
    consumers: record.consumers,
    created_by: record.created_by,
    created_at: isoTime(record.created_at),
    expires_at: isoTime(record.expires_at),
    revoked_at: isoTimeOrNull(record.revoked_at),
    revoke_reason: record.revoke_reason,
    last_used_at: isoTimeOrNull(record.last_used_at),
  };
}
