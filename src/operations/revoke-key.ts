/**
 * Revoke a key: announced to the key's object, then D1 (the source of truth, with the audit row), then the
 * key's object, KV and the isolate's caches (see changeKey). Idempotent and safe to retry: revoking a revoked
 * key changes nothing in D1 but propagates again, so a retry after a failure part-way completes it.
 */
import type * as z from "zod";
import type { KeyView } from "../keys/key-record";
import { markKeyRevoked } from "../keys/store";
import type { KeyActor } from "./actor";
import { auditEntry, type OperationContext } from "./context";
import { applyKeyChange, requireKey } from "./key-change";
import type { revokeKeySchema } from "./schemas";
import { clock } from "../util/clock";

export type RevokeKeyInput = z.output<typeof revokeKeySchema>;

export async function revokeKey(ctx: OperationContext<KeyActor>, id: string, input: RevokeKeyInput): Promise<KeyView> {
  const now = clock.now();
  const reason = input.reason ?? null;
  const { record } = await requireKey(ctx, id);
  return applyKeyChange(ctx, record, now, () =>
    markKeyRevoked(
      ctx.env.DB,
      id,
      reason,
      auditEntry(ctx, "revoke", now, { status: "revoked", revoke_reason: reason }),
    ),
  );
}
