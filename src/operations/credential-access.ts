/**
 * What the credential operations share: which credentials an actor may see (a principal limited to some
 * consumers sees only credentials limited to consumers of its own), and reading one (404 otherwise).
 */
import { CREDENTIAL_ID_PATTERN, type CredentialRecord } from "../credentials/credential-record";
import { findCredentialById } from "../credentials/store";
import { ProblemError } from "../http/problem";
import { consumerScope, type AdminActor } from "./actor";
import type { OperationContext } from "./context";

/** Whether the actor may see this credential: every consumer it covers is one of the actor's. */
export function maySeeCredential(actor: AdminActor, record: CredentialRecord): boolean {
  const scope = consumerScope(actor);
  return scope === null || (record.consumers?.every((c) => scope.includes(c)) ?? false);
}

/** The credential with this id that the actor may see, or 404 `credential_not_found`. */
export async function requireCredential(ctx: OperationContext<AdminActor>, id: string): Promise<CredentialRecord> {
  const record = CREDENTIAL_ID_PATTERN.test(id) ? await findCredentialById(ctx.env.DB, id) : null;
  if (!record || !maySeeCredential(ctx.actor, record)) throw new ProblemError("credential_not_found");
  return record;
}
