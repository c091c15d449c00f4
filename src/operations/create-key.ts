/** Create a key: mint its secret, store its hash with a create audit row, and hand it to its object. */
import * as z from "zod";
import type { Config } from "../config";
import { keyViewSchema, toKeyView } from "../keys/key-record";
import { insertKey } from "../keys/store";
import { introduceKey } from "../key-change/change-key";
import type { AdminActor } from "./actor";
import { auditEntry, type OperationContext } from "./context";
import { checkLifetimeDays, mintKey } from "./new-key";
import type { createKeySchema } from "./schemas";
import { clock } from "../util/clock";

export type CreateKeyInput = z.output<typeof createKeySchema>;

/** The new key: its secret, shown here once and never again, and the key object. */
export const createKeyResult = z.object({ api_key: z.string(), key: keyViewSchema });
export type CreateKeyResult = z.output<typeof createKeyResult>;

export async function createKey(
  ctx: OperationContext<AdminActor>,
  input: CreateKeyInput,
  config: Config,
): Promise<CreateKeyResult> {
  checkLifetimeDays(config, input.expires_in_days);
  const now = clock.now();
  const { expires_in_days, ...settings } = input;
  const { apiKey, keyHash, record } = await mintKey(config, settings, { now, days: expires_in_days });
  ctx.observe?.keyId(record.id);
  const { id: _id, hint: _hint, prefix: _prefix, version: _v, lineage_id: _l, ...changes } = toKeyView(record, now);
  await insertKey(ctx.env.DB, record, keyHash, auditEntry(ctx, "create", now, changes));
  await introduceKey(ctx.env, record);
  return { api_key: apiKey, key: toKeyView(record, now) };
}
