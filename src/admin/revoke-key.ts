/**
 * POST /admin/v1/keys/{id}/revoke — D1 first (the source of truth), then the key's object, KV and the
 * isolate's caches (see propagateChange). Idempotent and safe to retry: revoking a revoked key changes
 * nothing in D1 but propagates again, so a retry after a failure part-way completes the revocation.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app";
import { ProblemError } from "../http/problem";
import { toKeyObject } from "../keys/record";
import { findKeyById, revokeKey as revokeInD1 } from "../keys/store";
import { propagateChange } from "../limits/propagate";
import type { AdminVariables } from "./auth";
import { KEY_ID_PATTERN, readJson, revokeKeySchema } from "./schemas";

export async function revokeKey(c: Context<AppEnv & { Variables: AdminVariables }>): Promise<Response> {
  const id = c.req.param("id") ?? "";
  if (!KEY_ID_PATTERN.test(id)) throw new ProblemError("key_not_found");
  const body = await readJson(c.req.raw, revokeKeySchema, { emptyAllowed: true });

  const now = Date.now();
  const reason = body.reason ?? null;
  await revokeInD1(c.env.DB, id, reason, {
    actor: c.get("actor"),
    action: "revoke",
    requestId: c.get("requestId"),
    at: now,
    changes: { status: "revoked", revoke_reason: reason },
  });
  const current = await findKeyById(c.env.DB, id);
  if (!current) throw new ProblemError("key_not_found"); // the conditional UPDATE and audit insert matched nothing
  try {
    await propagateChange(c.env, current.record, current.keyHash);
  } catch {
    console.error("admin: revoked in D1 but the key's object or the KV purge failed; retry the call to complete it");
    throw new ProblemError("authorizer_unavailable", { retryAfterSeconds: 1 });
  }
  return c.json(toKeyObject(current.record, now), 200, { "Cache-Control": "no-store" });
}
