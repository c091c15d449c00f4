/** POST /admin/v1/keys — mints a key. The plaintext is in this one response and nowhere else, ever. */
import { generateKey, parseKey } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import { newKeyRecord, toKeyView } from "../keys/key-record";
import { insertKey } from "../keys/store";
import { introduceKey } from "../key-change/change-key";
import { invalidField } from "../http/json-body";
import { readJson } from "./read-request";
import { clock } from "../util/clock";
import { DAY_MS } from "../util/time";
import { adminConfig, adminJson, auditEntry, type AdminContext } from "./context";
import { createKeySchema } from "./schemas";

export async function createKey(c: AdminContext): Promise<Response> {
  const config = adminConfig(c);
  const body = await readJson(c.req.raw, createKeySchema);
  if (body.expires_in_days > config.maxLifetimeDays) {
    throw invalidField("expires_in_days", `at most ${config.maxLifetimeDays} (MAX_KEY_LIFETIME_DAYS)`);
  }

  const apiKey = generateKey(config.vendor, body.type, body.environment);
  const now = clock.now();
  const { expires_in_days, ...settings } = body;
  const record = newKeyRecord(parseKey(apiKey, config.vendor)!, settings, { now, expiresAt: now + expires_in_days * DAY_MS });
  c.set("keyId", record.id);
  const { id: _id, hint: _hint, prefix: _prefix, version: _v, lineage_id: _l, ...changes } = toKeyView(record, now);
  await insertKey(c.env.DB, record, await sha256Hex(apiKey), auditEntry(c, "create", now, changes));
  await introduceKey(c.env, record);
  return adminJson(c, { api_key: apiKey, key: toKeyView(record, now) }, 201);
}
