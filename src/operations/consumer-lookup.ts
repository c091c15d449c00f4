/** Reading the consumer an operation is about: 404 `consumer_not_found` if there is none. */
import type { StoredConsumer } from "../consumers/store";
import { findConsumerById } from "../consumers/store";
import { ProblemError } from "../http/problem";
import { mayActOn } from "./actor";
import type { OperationContext } from "./context";

/**
 * The consumer with this id, or 404: also when the actor may not act on it, so a principal limited to some
 * consumers cannot learn which others exist. A deleted consumer is found (its row stays, for the audit
 * trail) unless `deletedIsGone`: it can no longer be changed.
 */
export async function requireConsumer(
  ctx: OperationContext,
  id: string,
  { deletedIsGone = false } = {},
): Promise<StoredConsumer> {
  if (!mayActOn(ctx.actor, id)) throw new ProblemError("consumer_not_found");
  const found = await findConsumerById(ctx.env.DB, id);
  if (!found || (deletedIsGone && found.record.status === "deleted")) throw new ProblemError("consumer_not_found");
  return found;
}
