/**
 * Making a change to a key take effect everywhere, once it is in D1: the key's object first (it refuses
 * anything decided on the old version from then on), then KV and this isolate's caches, then a wait until
 * every lease granted under the old version has lapsed. When this returns, no request anywhere is decided
 * by the old state. Idempotent, so a caller that failed part-way retries the whole admin call.
 *
 * D1, the object and KV share no transaction, so a change is announced to the object before D1 is written
 * (`announceChange`): if the push then fails, the object decides the key's requests on D1's copy until the
 * retry arrives, instead of on its old one (fail closed). If the announcement fails, nothing is written.
 */
import { purgeKey } from "../keys/lookup";
import type { KeyRecord } from "../keys/record";
import { log } from "../util/log";
import { forgetLeases } from "./leases";

/** Tells the key's object that a change to the key is about to be written to D1. Throws if the object fails. */
export async function announceChange(env: Cloudflare.Env, lineageId: string, keyId: string): Promise<void> {
  await env.KEY_OBJECT.get(env.KEY_OBJECT.idFromName(lineageId)).prepareChange(keyId);
}

export async function propagateChange(env: Cloudflare.Env, record: KeyRecord, keyHash: string): Promise<void> {
  const { leasesExpireAt } = await pushState(env, record);
  forgetLeases(record.id);
  await purgeKey(env.KEY_CACHE, keyHash);
  const wait = leasesExpireAt - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

/** Gives the key's object the state D1 now holds for the key. */
function pushState(env: Cloudflare.Env, record: KeyRecord) {
  const stub = env.KEY_OBJECT.get(env.KEY_OBJECT.idFromName(record.lineage_id));
  return stub.applyChange({
    id: record.id,
    version: record.version,
    status: record.status,
    expires_at: record.expires_at,
    grace_until: record.grace_until,
    rate_limits: record.rate_limits,
  });
}

/**
 * Hands a key just inserted in D1 to its object, so the key's first request needs no D1 read. Best effort:
 * if it fails, the object reads the key from D1 on first use, as it would anyway.
 */
export async function introduceKey(env: Cloudflare.Env, record: KeyRecord): Promise<void> {
  try {
    await pushState(env, record);
  } catch (error) {
    // The object reads the key from D1 on first use instead.
    log("warn", "admin.introduce_failed", { key_id: record.id, degraded: "key_object_unavailable", error: (error as Error).name });
  }
}
