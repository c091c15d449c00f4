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
import type { KeyRecord } from "../keys/key-record";
import { clock } from "../util/clock";
import { log } from "../util/log";
import { findKeyById } from "../keys/store";
import { forgetLeases } from "../limits/leases";

/** Which step of `changeKey` failed: nothing was written (`announce`), or D1 has the change (`propagate`). */
export class KeyChangeFailed extends Error {
  override readonly name = "KeyChangeFailed";
  constructor(
    readonly step: "announce" | "propagate",
    readonly causeName: string,
  ) {
    super(`key change failed at ${step}`);
  }
}

export interface KeyChangeOptions<T> {
  /** Whether what `write` did needs pushing (default: always, so a retry completes a change left part-way). */
  propagateIf?: (written: T) => boolean;
  /**
   * Wait for the leases granted under the old version to lapse before returning (default). A caller changing
   * many keys passes false and waits once for the latest `leasesExpireAt` (see `waitForLeases`).
   */
  waitForLeases?: boolean;
}

export interface KeyChangeResult<T> {
  written: T;
  /** The key as D1 holds it after the write, as pushed; null if nothing was pushed (or the key is gone). */
  current: { record: KeyRecord; keyHash: string } | null;
  /** When the old version's leases lapse (0 if none); already past when `waitForLeases` was left on. */
  leasesExpireAt: number;
}

/**
 * Every change to a live key, in the one order that fails closed: announce it to the key's object, write it
 * to D1 (`write`, with its audit row), re-read the row, push that. Errors of `write` pass through unchanged.
 * Throws KeyChangeFailed("announce") with nothing written, or KeyChangeFailed("propagate") when D1 has the
 * change but the object, KV or caches may not yet (the object decides the key on D1's copy meanwhile, and
 * calling again completes it).
 * @example await changeKey(env, record, () => markKeyRevoked(env.DB, record.id, reason, audit));
 */
export async function changeKey<T>(
  env: Cloudflare.Env,
  key: Pick<KeyRecord, "id" | "lineage_id">,
  write: () => Promise<T>,
  { propagateIf = () => true, waitForLeases: wait = true }: KeyChangeOptions<T> = {},
): Promise<KeyChangeResult<T>> {
  try {
    await announceChange(env, key.lineage_id, key.id);
  } catch (error) {
    throw new KeyChangeFailed("announce", (error as Error).name);
  }
  const written = await write();
  if (!propagateIf(written)) return { written, current: null, leasesExpireAt: 0 };
  const current = await findKeyById(env.DB, key.id);
  if (!current) return { written, current: null, leasesExpireAt: 0 };
  let leasesExpireAt: number;
  try {
    leasesExpireAt = await pushAndPurge(env, current.record, current.keyHash);
  } catch (error) {
    throw new KeyChangeFailed("propagate", (error as Error).name);
  }
  if (wait) await waitForLeases(leasesExpireAt);
  return { written, current, leasesExpireAt };
}

/** Tells the key's object that a change to the key is about to be written to D1. Throws if the object fails. */
export async function announceChange(env: Cloudflare.Env, lineageId: string, keyId: string): Promise<void> {
  await env.KEY_OBJECT.get(env.KEY_OBJECT.idFromName(lineageId)).prepareChange(keyId);
}

/** The object, then KV and this isolate's caches; returns when the old version's leases lapse. */
async function pushAndPurge(env: Cloudflare.Env, record: KeyRecord, keyHash: string): Promise<number> {
  const { leasesExpireAt } = await pushState(env, record);
  forgetLeases(record.id);
  await purgeKey(env.KEY_CACHE, keyHash);
  return leasesExpireAt;
}

/** Waits until `leasesExpireAt` (epoch ms; at most LEASE_MS away), when no lease of an old version is left. */
export async function waitForLeases(leasesExpireAt: number): Promise<void> {
  await clock.sleep(leasesExpireAt - clock.now());
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
    log("warn", "admin.introduce_failed", {
      key_id: record.id,
      degraded: "key_object_unavailable",
      error: (error as Error).name,
    });
  }
}
