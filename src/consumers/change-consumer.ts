/**
 * Making a change to a consumer (its status, shared limits, revoke-keys) take effect everywhere once it is in
 * D1, in the order the key changes use (src/key-change/change-key.ts): announce it to the consumer's object,
 * write D1 (`write`, with its audit row), re-read the consumer's state, push it to the object, then wait
 * until every lease the object granted before the change has lapsed. When this returns, no request of any of
 * the consumer's keys is decided by the old state. Idempotent: a caller that failed part-way retries the call.
 */
import { clock } from "../util/clock";
import { forgetConsumerLeases } from "../limits/leases";
import { KeyChangeFailed } from "../key-change/change-key";
import { findConsumerState } from "./consumer-state";

/**
 * Throws KeyChangeFailed("announce") with nothing written, or KeyChangeFailed("propagate") when D1 has the
 * change but the object may not yet (it decides on D1's copy meanwhile). Errors of `write` pass through.
 */
export async function changeConsumer<T>(env: Cloudflare.Env, consumerId: string, write: () => Promise<T>): Promise<T> {
  const stub = env.CONSUMER_OBJECT.get(env.CONSUMER_OBJECT.idFromName(consumerId));
  try {
    await stub.prepareChange();
  } catch (error) {
    throw new KeyChangeFailed("announce", (error as Error).name);
  }
  const written = await write();
  let leasesExpireAt: number;
  try {
    const state = await findConsumerState(env.DB, consumerId);
    if (!state) return written;
    ({ leasesExpireAt } = await stub.applyChange(state));
  } catch (error) {
    throw new KeyChangeFailed("propagate", (error as Error).name);
  }
  forgetConsumerLeases(consumerId);
  await clock.sleep(leasesExpireAt - clock.now());
  return written;
}
