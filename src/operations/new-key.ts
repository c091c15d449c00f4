/**
 * Minting a key's secret and record, shared by create and rotate: the lifetime bound, the secret (in the
 * operation's answer and nowhere else, ever), its hash and the record of the new key.
 */
import type { Config } from "../config";
import { invalidField } from "../http/json-body";
import { generateKey, parseKey } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import { newKeyRecord, type KeyRecord, type MintedSettings } from "../keys/key-record";
import { DAY_MS, SECOND_MS } from "../util/time";

/** A key's lifetime in ms, and the request field that asked for it (the default is named as days). */
export interface Lifetime {
  ms: number;
  field: "expires_in_days" | "expires_in_seconds";
}

/**
 * The audit rows' label for a key minted by a secret manager's tooling (`secret_store` on create and rotate):
 * nothing when the caller named none, so the rows of other callers stay as they were.
 */
export const secretStoreChange = (store: "vault" | "aws-secrets-manager" | undefined): Record<string, string> =>
  store === undefined ? {} : { secret_store: store };

/**
 * The lifetime a create or a rotation asks for (`expires_in_seconds`, for CI jobs and other automation, or
 * `expires_in_days`; the schemas refuse both at once), else `days` (the default under the consumer's policy).
 */
export function lifetimeOf(
  input: { expires_in_days?: number | undefined; expires_in_seconds?: number | undefined },
  defaultDays: number,
): Lifetime {
  if (input.expires_in_seconds !== undefined)
    return { ms: input.expires_in_seconds * SECOND_MS, field: "expires_in_seconds" };
  return { ms: (input.expires_in_days ?? defaultDays) * DAY_MS, field: "expires_in_days" };
}

/** 400 unless the lifetime is within MAX_KEY_LIFETIME_DAYS, named in the unit of the field that asked. */
export function checkLifetime(config: Config, lifetime: Lifetime): void {
  if (lifetime.ms <= config.maxLifetimeDays * DAY_MS) return;
  const most =
    lifetime.field === "expires_in_days" ? config.maxLifetimeDays : (config.maxLifetimeDays * DAY_MS) / SECOND_MS;
  throw invalidField(lifetime.field, `at most ${most} (MAX_KEY_LIFETIME_DAYS)`);
}

/** A new secret with these settings, living `lifetimeMs` from `now`; a rotation's successor names its predecessor. */
export async function mintKey(
  config: Config,
  settings: MintedSettings,
  times: { now: number; lifetimeMs: number },
  predecessor: Pick<KeyRecord, "id" | "lineage_id"> | null = null,
): Promise<{ apiKey: string; keyHash: string; record: KeyRecord }> {
  const apiKey = generateKey(config.vendor, settings.type, settings.environment);
  const record = newKeyRecord(
    parseKey(apiKey, config.vendor)!,
    settings,
    { now: times.now, expiresAt: times.now + times.lifetimeMs },
    predecessor,
  );
  return { apiKey, keyHash: await sha256Hex(apiKey), record };
}
