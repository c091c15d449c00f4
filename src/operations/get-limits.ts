/**
 * Read a key's or a consumer's remaining limits, as their Durable Objects count them, without spending a
 * token (src/limits/peek.ts): for the console, the portal (a consumer's own) and for an operator wondering why a
 * client is refused.
 */
import * as z from "zod";
import { ProblemError } from "../http/problem";
import { limitViewSchema, toLimitView } from "../limits/limit-view";
import { consumerLimitsNow, keyLimitsNow } from "../limits/peek";
import { clock } from "../util/clock";
import { log } from "../util/log";
import type { KeyActor } from "./actor";
import { requireConsumer } from "./consumer-lookup";
import type { OperationContext } from "./context";
import { requireKey } from "./key-change";

export const keyLimitsResult = z.object({ key_id: z.string(), limits: z.array(limitViewSchema) });
export const consumerLimitsResult = z.object({ consumer_id: z.string(), limits: z.array(limitViewSchema) });

/** An object that fails or hangs is 503, as at the gateway. */
async function fromObjects<T>(ctx: OperationContext, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    log("error", "admin.limits_unavailable", { request_id: ctx.requestId, error: (error as Error).name });
    throw new ProblemError("authorizer_unavailable", { retryAfterSeconds: 1 });
  }
}

/** The key's own limits, then its consumer's shared ones (named "consumer.<name>"), whatever its state. */
export async function getKeyLimits(
  ctx: OperationContext<KeyActor>,
  id: string,
): Promise<z.output<typeof keyLimitsResult>> {
  const { record } = await requireKey(ctx, id);
  const stores = { keyObjects: ctx.env.KEY_OBJECT, consumerObjects: ctx.env.CONSUMER_OBJECT };
  const limits = await fromObjects(ctx, () => keyLimitsNow(stores, record, clock.now()));
  return { key_id: id, limits: limits.map(toLimitView) };
}

/** The consumer's shared limits. */
export async function getConsumerLimits(
  ctx: OperationContext<KeyActor>,
  id: string,
): Promise<z.output<typeof consumerLimitsResult>> {
  await requireConsumer(ctx, id);
  const stores = { keyObjects: ctx.env.KEY_OBJECT, consumerObjects: ctx.env.CONSUMER_OBJECT };
  const limits = await fromObjects(ctx, () => consumerLimitsNow(stores, id, clock.now()));
  return { consumer_id: id, limits: limits.map((l) => toLimitView({ ...l, subject: "consumer" })) };
}
