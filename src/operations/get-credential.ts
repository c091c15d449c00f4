/** Read one admin credential (never its secret or hash). */
import { toCredentialView, type CredentialView } from "../credentials/credential-record";
import { clock } from "../util/clock";
import type { AdminActor } from "./actor";
import type { OperationContext } from "./context";
import { requireCredential } from "./credential-access";

export async function getCredential(ctx: OperationContext<AdminActor>, id: string): Promise<CredentialView> {
  return toCredentialView(await requireCredential(ctx, id), clock.now());
}
