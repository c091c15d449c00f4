/**
 * POST /admin/v1/keys/{id}/rotate — mints a successor with every setting of the key, in the same lineage
 * (so it shares the key's rate-limit counters), and lets the old key work until `grace_until`. A revoked,
 * disabled, expired or already rotated key is 409 and nothing is minted; two concurrent rotations of one key
 * yield exactly one successor (the D1 batch is conditional on the predecessor being unrotated).
 */
import { ProblemError } from "../http/problem";
import { generateKey, parseKey } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import { isLive, newKeyRecord, toKeyView } from "../keys/key-record";
import { writeRotation } from "../keys/store";
import { changeKey, introduceKey, KeyChangeFailed } from "../key-change/change-key";
import { clock } from "../util/clock";
import { DAY_MS, HOUR_MS, isoTime } from "../util/time";
import { logKeyChangeFailure } from "./update-key";
import { invalidField } from "../http/json-body";
import { readJson } from "./read-request";
import { adminConfig, adminJson, auditEntry, findKeyOr404, keyIdParam, type AdminContext } from "./context";
import { rotateKeySchema } from "./schemas";

export async function rotateKey(c: AdminContext): Promise<Response> {
  const config = adminConfig(c);
  const id = keyIdParam(c);
  const body = await readJson(c.req.raw, rotateKeySchema, { emptyAllowed: true });
  if (body.expires_in_days > config.maxLifetimeDays) {
    throw invalidField("expires_in_days", `at most ${config.maxLifetimeDays} (MAX_KEY_LIFETIME_DAYS)`);
  }
  const { record: old } = await findKeyOr404(c, id);
  const now = clock.now();
  if (!isLive(old, now) || old.rotated_to !== null) throw new ProblemError("key_state_conflict");

  const apiKey = generateKey(config.vendor, old.type, old.environment);
  const successor = newKeyRecord(parseKey(apiKey, config.vendor)!, old, { now, expiresAt: now + body.expires_in_days * DAY_MS }, old);
  // The grace period never extends the old key's life.
  const graceUntil = Math.min(now + body.grace_period_hours * HOUR_MS, old.expires_at);
  const writeRotationAndIntroduce = async () => {
    const { rotated } = await writeRotation(
      c.env.DB,
      { id: old.id, graceUntil, now },
      successor,
      await sha256Hex(apiKey),
      {
        predecessor: auditEntry(c, "rotate", now, { rotated_to: successor.id, grace_until: isoTime(graceUntil) }),
        successor: auditEntry(c, "rotate", now, { rotated_from: old.id }),
      },
    );
    if (rotated) await introduceKey(c.env, successor);
    return rotated;
  };
  let rotated: boolean;
  try {
    ({ written: rotated } = await changeKey(c.env, old, writeRotationAndIntroduce, { propagateIf: (r) => r }));
  } catch (error) {
    if (!(error instanceof KeyChangeFailed)) throw error;
    logKeyChangeFailure(c, old.id, error);
    if (error.step === "announce") throw new ProblemError("authorizer_unavailable", { retryAfterSeconds: 1 });
    // The successor exists and the grace end is in D1, so its secret must reach the caller: the old key's
    // object, told of the change before D1 was written, decides the old key on D1's copy until a push arrives.
    rotated = true;
  }
  if (!rotated) throw new ProblemError("key_state_conflict"); // rotated, revoked or disabled meanwhile

  return adminJson(
    c,
    { api_key: apiKey, key: toKeyView(successor, now), previous: { id: old.id, grace_until: new Date(graceUntil).toISOString() } },
    201,
  );
}
