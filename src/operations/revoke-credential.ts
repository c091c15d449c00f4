/**
 * Revoke an admin credential, for good. In force at once: every admin request reads its credential from D1
 * (no cache to wait out). Idempotent: revoking a revoked one changes nothing and writes no audit row.
 */
import type * as z from "zod";
import { toCredentialView, type CredentialView } from "../credentials/credential-record";
import { markCredentialRevoked } from "../credentials/store";
import { clock } from "../util/clock";
import type { AdminActor } from "./actor";
import { auditEntry, type OperationContext } from "./context";
import { requireCredential } from "./credential-access";
import type { revokeKeySchema } from "./schemas";

export async function revokeCredential(
  ctx: OperationContext<AdminActor>,
  id: string,
  input: z.output<typeof revokeKeySchema>,
): Promise<CredentialView> {
  const now = clock.now();
  const reason = input.reason ?? null;
  await requireCredential(ctx, id);
  const audit = auditEntry(ctx, "revoke", now, { status: "revoked", revoke_reason: reason });
  await markCredentialRevoked(ctx.env.DB, id, reason, audit);
  return toCredentialView(await requireCredential(ctx, id), now);
}
