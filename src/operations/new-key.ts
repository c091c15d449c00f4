/**
 * Minting a key's secret and record, shared by create and rotate: the lifetime bound, the secret (in the
 * operation's answer and nowhere else, ever), its hash and the record of the new key.
 */
import type { Config } from "../config";
import { invalidField } from "../http/json-body";
import { generateKey, parseKey } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import { newKeyRecord, type KeyRecord, type MintedSettings } from "../keys/key-record";
import { DAY_MS } from "../util/time";

/** 400 unless a lifetime of `days` is within MAX_KEY_LIFETIME_DAYS. */
export function checkLifetimeDays(config: Config, days: number): void {
  if (days > config.maxLifetimeDays)
    throw invalidField("expires_in_days", `at most ${config.maxLifetimeDays} (MAX_KEY_LIFETIME_DAYS)`);
}

/**
 * The audit rows' label for a key minted by a secret manager's tooling (`secret_store` on create and rotate):
 * nothing when the caller named none, so the rows of other callers stay as they were.
 */
export const secretStoreChange = (store: "vault" | "aws-secrets-manager" | undefined): Record<string, string> =>
  store === undefined ? {} : { secret_store: store };

/** A new secret with these settings, living `days` from `now`; a rotation's successor names its predecessor. */
export async function mintKey(
  config: Config,
  settings: MintedSettings,
  times: { now: number; days: number },
  predecessor: Pick<KeyRecord, "id" | "lineage_id"> | null = null,
): Promise<{ apiKey: string; keyHash: string; record: KeyRecord }> {
  const apiKey = generateKey(config.vendor, settings.type, settings.environment);
  const record = newKeyRecord(
    parseKey(apiKey, config.vendor)!,
    settings,
    { now: times.now, expiresAt: times.now + times.days * DAY_MS },
    predecessor,
  );
  return { apiKey, keyHash: await sha256Hex(apiKey), record };
}
