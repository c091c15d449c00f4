/**
 * POST /admin/v1/keys/{id}/revoke — D1 first (the source of truth, with the audit row), then the key's
 * object, KV and the isolate's caches (see propagateChange). Idempotent and safe to retry: revoking a
 * revoked key changes nothing in D1 but propagates again, so a retry after a failure part-way completes it.
 */
import { revokeKey as revokeInD1 } from "../keys/store";
import { readJson } from "./body";
import { auditEntry, findKeyOr404, keyIdParam, type AdminContext } from "./context";
import { revokeKeySchema } from "./schemas";
import { announceChangeOr503, propagateAndAnswer } from "./update-key";

export async function revokeKey(c: AdminContext): Promise<Response> {
  const id = keyIdParam(c);
  const body = await readJson(c.req.raw, revokeKeySchema, { emptyAllowed: true });
  const now = Date.now();
  const reason = body.reason ?? null;
  const { record } = await findKeyOr404(c, id);
  await announceChangeOr503(c, record.lineage_id, id);
  await revokeInD1(c.env.DB, id, reason, auditEntry(c, "revoke", now, { status: "revoked", revoke_reason: reason }));
  return propagateAndAnswer(c, id, now);
}
