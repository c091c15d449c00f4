/** Reading the consumer an operation is about: 404 `consumer_not_found` if there is none. */
import type { StoredConsumer } from "../consumers/store";
import { findConsumerById } from "../consumers/store";
import { ProblemError } from "../http/problem";

/**
 * The consumer with this id, or 404. A deleted consumer is found (its row stays, for the audit trail) unless
 * `deletedIsGone`: it can no longer be changed.
 */
export async function requireConsumer(
  env: Cloudflare.Env,
  id: string,
  { deletedIsGone = false } = {},
): Promise<StoredConsumer> {
  const found = await findConsumerById(env.DB, id);
  if (!found || (deletedIsGone && found.record.status === "deleted")) throw new ProblemError("consumer_not_found");
  return found;
}
