/**
 * POST /admin/v1/keys/{id}/revoke — announced to the key's object, then D1 (the source of truth, with the
 * audit row), then the key's object, KV and the isolate's caches (see changeKey). Idempotent and safe to retry: revoking a
 * revoked key changes nothing in D1 but propagates again, so a retry after a failure part-way completes it.
 */
import { markKeyRevoked } from "../keys/store";
import { readJson } from "./read-request";
import { clock } from "../util/clock";
import { auditEntry, findKeyOr404, keyIdParam, type AdminContext } from "./context";
import { revokeKeySchema } from "./schemas";
import { changeAndAnswer } from "./update-key";

export async function revokeKey(c: AdminContext): Promise<Response> {
  const id = keyIdParam(c);
  const body = await readJson(c.req.raw, revokeKeySchema, { emptyAllowed: true });
  const now = clock.now();
  const reason = body.reason ?? null;
  const { record } = await findKeyOr404(c, id);
  return changeAndAnswer(c, record, now, () =>
    markKeyRevoked(c.env.DB, id, reason, auditEntry(c, "revoke", now, { status: "revoked", revoke_reason: reason })),
  );
}
