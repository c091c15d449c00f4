/**
 * Check a key: what the gateway would answer a request with it, decided by the gateway's own pipeline in
 * its read-only mode (`previewDecision` in src/verify/verify.ts), so that nothing changes: no token is spent,
 * no usage counted, no network learnt by the anomaly rules, the refusal throttle left alone, no leak
 * recorded, nothing audited. A secret manager's rotation function uses it to test a new key.
 */
import * as z from "zod";
import type { Config } from "../config";
import { limitViewSchema, toLimitView } from "../limits/limit-view";
import { clock } from "../util/clock";
import { previewDecision } from "../verify/verify";
import { canonicalPath } from "../verify/paths";
import { mayActOn, type AdminActor } from "./actor";
import type { OperationContext } from "./context";
import type { checkKeySchema } from "./schemas";

export type CheckKeyInput = z.output<typeof checkKeySchema>;

export const checkKeyResult = z.object({
  valid: z.boolean(),
  /** The problem code the gateway would answer; null when it would admit the request. */
  code: z.string().nullable(),
  /** The key's id once it is known (any refusal after the lookup found it); null for an unknown key. */
  key_id: z.string().nullable(),
  /** Remaining per limit, the key's then its consumer's, when the decision reached them (else empty). */
  limits: z.array(limitViewSchema),
});
export type CheckKeyResult = z.output<typeof checkKeyResult>;

export async function checkKey(
  ctx: OperationContext<AdminActor>,
  input: CheckKeyInput,
  config: Config,
): Promise<CheckKeyResult> {
  const { env } = ctx;
  const stores = {
    db: env.DB,
    kv: env.KEY_CACHE,
    keyObjects: env.KEY_OBJECT,
    consumerObjects: env.CONSUMER_OBJECT,
    waitUntil: ctx.waitUntil,
  };
  const segments = input.path === undefined ? null : canonicalPath(input.path)!.segments; // the schema checked it
  const { decision, keyId, ownerId } = await previewDecision(
    stores,
    config,
    {
      key: input.api_key,
      method: input.method ?? "GET",
      segments,
      ip: input.ip ?? null,
      origin: input.origin ?? null,
    },
    clock.now(),
  );
  // A key of a consumer the principal may not act on is answered as no key at all, as the other key routes
  // answer it 404: a narrow credential learns nothing about other consumers' keys.
  if (ownerId !== null && !mayActOn(ctx.actor, ownerId))
    return { valid: false, code: "invalid_key", key_id: null, limits: [] };
  return {
    valid: decision.valid,
    code: decision.valid ? null : decision.code,
    key_id: keyId,
    limits: (decision.limits ?? []).map(toLimitView),
  };
}
