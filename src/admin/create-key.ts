/** POST /admin/v1/keys — mints a key. The plaintext is in this one response and nowhere else, ever. */
import { generateKey, parseKey, randomBase62 } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import { toKeyObject, type KeyRecord } from "../keys/record";
import { insertKey } from "../keys/store";
import { introduceKey } from "../limits/propagate";
import { clock } from "../util/clock";
import { DAY_MS } from "../util/time";
import { invalidField } from "../http/body";
import { readJson } from "./body";
import { adminConfig, adminJson, auditEntry, type AdminContext } from "./context";
import { createKeySchema } from "./schemas";

export async function createKey(c: AdminContext): Promise<Response> {
  const config = adminConfig(c);
  const body = await readJson(c.req.raw, createKeySchema);
  if (body.expires_in_days > config.maxLifetimeDays) {
    throw invalidField("expires_in_days", `at most ${config.maxLifetimeDays} (MAX_KEY_LIFETIME_DAYS)`);
  }

  const apiKey = generateKey(config.vendor, body.type, body.environment);
  const parsed = parseKey(apiKey, config.vendor)!;
  const now = clock.now();
  const { expires_in_days, ...settings } = body;
  const id = `key_${randomBase62(22)}`;
  c.set("keyId", id);
  const record: KeyRecord = {
    id,
    prefix: parsed.prefix,
    hint: parsed.hint,
    ...settings,
    status: "active",
    created_at: now,
    expires_at: now + expires_in_days * DAY_MS,
    revoked_at: null,
    revoke_reason: null,
    rotated_from: null,
    rotated_to: null,
    grace_until: null,
    last_used_at: null,
    usage_count: 0,
    version: 1,
    lineage_id: id,
  };
  const { id: _id, hint: _hint, prefix: _prefix, version: _v, lineage_id: _l, ...changes } = toKeyObject(record, now);
  await insertKey(c.env.DB, record, await sha256Hex(apiKey), auditEntry(c, "create", now, changes));
  await introduceKey(c.env, record);
  return adminJson(c, { api_key: apiKey, key: toKeyObject(record, now) }, 201);
}
