/**
 * Making a change to a key take effect everywhere, once it is in D1: the key's object first (it refuses
 * anything decided on the old version from then on), then KV and this isolate's caches, then a wait until
 * every lease granted under the old version has lapsed. When this returns, no request anywhere is decided
 * by the old state. Idempotent, so a caller that failed part-way retries the whole admin call.
 */
import { purgeKey } from "../keys/lookup";
import type { KeyRecord } from "../keys/record";
import { forgetLeases } from "./leases";

export async function propagateChange(env: Cloudflare.Env, record: KeyRecord, keyHash: string): Promise<void> {
  const stub = env.KEY_OBJECT.get(env.KEY_OBJECT.idFromName(record.lineage_id));
  const { leasesExpireAt } = await stub.applyChange({
    id: record.id,
    version: record.version,
    status: record.status,
    expires_at: record.expires_at,
    grace_until: record.grace_until,
    rate_limits: record.rate_limits,
  });
  forgetLeases(record.id);
  await purgeKey(env.KEY_CACHE, keyHash);
  const wait = leasesExpireAt - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
