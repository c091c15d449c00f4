/**
 * Mint a scoped admin credential: shown once, stored as its SHA-256 only, with a create audit row. Never
 * broader than its minter: every operation it holds, the minter holds; its consumers are within the
 * minter's; and a credential minting one cannot outlive itself.
 */
import * as z from "zod";
import { credentialViewSchema, newCredentialId, toCredentialView } from "../credentials/credential-record";
import { insertCredential } from "../credentials/store";
import { ProblemError } from "../http/problem";
import { generateCredential, parseCredential } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import { clock } from "../util/clock";
import { DAY_MS } from "../util/time";
import { actorName, grantOf, type AdminActor } from "./actor";
import { auditEntry, type OperationContext } from "./context";
import type { createCredentialSchema } from "./schemas";

export type CreateCredentialInput = z.output<typeof createCredentialSchema>;

/** The new credential: its secret, shown here once and never again, and what the API answers about it. */
export const createCredentialResult = z.object({ credential: z.string(), details: credentialViewSchema });

const broader = (detail: string) => new ProblemError("forbidden_operation", { extra: { detail } });

export async function createCredential(
  ctx: OperationContext<AdminActor>,
  input: CreateCredentialInput,
  vendor: string,
): Promise<z.output<typeof createCredentialResult>> {
  const now = clock.now();
  const grant = grantOf(ctx.actor);
  const missing = input.operations.filter((op) => !grant.permissions.includes(op));
  if (missing.length > 0) throw broader(`a credential cannot hold what its minter lacks: ${missing.join(", ")}`);
  const consumers = input.consumers ?? null;
  if (grant.consumers !== null && (consumers === null || !consumers.every((c) => grant.consumers!.includes(c)))) {
    throw broader("a credential cannot cover consumers its minter does not");
  }
  let expiresAt = now + input.expires_in_days * DAY_MS;
  if (ctx.actor.kind === "credential") expiresAt = Math.min(expiresAt, ctx.actor.expiresAt);

  const secret = generateCredential(vendor);
  const record = {
    id: newCredentialId(),
    name: input.name,
    hint: parseCredential(secret, vendor)!.hint,
    permissions: input.operations,
    consumers,
    created_by: actorName(ctx.actor),
    created_at: now,
    expires_at: expiresAt,
    revoked_at: null,
    revoke_reason: null,
    last_used_at: null,
  };
  const view = toCredentialView(record, now);
  await insertCredential(
    ctx.env.DB,
    record,
    await sha256Hex(secret),
    auditEntry(ctx, "create", now, {
      name: view.name,
      operations: view.operations,
      consumers: view.consumers,
      expires_at: view.expires_at,
    }),
  );
  return { credential: secret, details: view };
}
