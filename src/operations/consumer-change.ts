/**
 * What the operations that change a consumer share: making a change through the consumer-change protocol
 * (src/consumers/change-consumer.ts), with the log line and the 503 of a change that failed part-way (safe
 * to retry, as for keys).
 */
import { ProblemError } from "../http/problem";
import { changeConsumer } from "../consumers/change-consumer";
import { KeyChangeFailed } from "../key-change/change-key";
import { log } from "../util/log";
import type { OperationContext } from "./context";

/** Runs `write` through the consumer-change protocol; a change that failed part-way is 503, safe to retry. */
export async function applyConsumerChange<T>(ctx: OperationContext, id: string, write: () => Promise<T>): Promise<T> {
  try {
    return await changeConsumer(ctx.env, id, write);
  } catch (error) {
    if (!(error instanceof KeyChangeFailed)) throw error;
    const announce = error.step === "announce";
    log("error", announce ? "admin.announce_failed" : "admin.propagation_failed", {
      request_id: ctx.requestId,
      consumer_id: id,
      degraded: "key_object_unavailable",
      error: error.causeName,
    });
    throw new ProblemError("authorizer_unavailable", { retryAfterSeconds: 1 });
  }
}
