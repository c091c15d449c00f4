/**
 * PATCH /admin/v1/keys/{id} — changes a key's settings. D1 first (with the audit row), then the change is
 * propagated (the key's object, leases, caches) before the call returns. A revoked key cannot be changed.
 */
import { ProblemError } from "../http/problem";
import { toKeyView, type KeyRecord } from "../keys/key-record";
import { updateKeySettings, type KeySettings } from "../keys/store";
import { changeKey, KeyChangeFailed } from "../key-change/change-key";
import { log } from "../util/log";
import { invalidField } from "../http/json-body";
import { readJson } from "./read-request";
import { clock } from "../util/clock";
import { DAY_MS } from "../util/time";
import { adminConfig, adminJson, auditEntry, findKeyOr404, keyIdParam, type AdminContext } from "./context";
import { keyTypeIssues, updateKeySchema } from "./schemas";

export async function updateKey(c: AdminContext): Promise<Response> {
  const config = adminConfig(c);
  const id = keyIdParam(c);
  const body = await readJson(c.req.raw, updateKeySchema);
  const { record } = await findKeyOr404(c, id);
  if (record.status === "revoked") throw new ProblemError("key_state_conflict");

  const issue = keyTypeIssues(record.type, body)[0];
  if (issue) throw invalidField(...issue);
  const now = clock.now();
  const { expires_at, ...rest } = body;
  const settings: KeySettings = { ...rest };
  if (expires_at !== undefined) {
    const at = Date.parse(expires_at);
    if (at <= now || at > now + config.maxLifetimeDays * DAY_MS) {
      throw invalidField("expires_at", `must be in the future and within ${config.maxLifetimeDays} days (MAX_KEY_LIFETIME_DAYS)`);
    }
    settings.expires_at = at;
  }

  return changeAndAnswer(c, record, now, async () => {
    const { changed } = await updateKeySettings(c.env.DB, id, record.version, settings, auditEntry(c, "update", now, body));
    // Nothing matched: the key was revoked or changed by someone else since we read it.
    if (!changed) throw new ProblemError("key_state_conflict");
  });
}

/** The log line for a change that failed part-way, naming the step (see KeyChangeFailed). */
export function logKeyChangeFailure(c: AdminContext, keyId: string, error: KeyChangeFailed): void {
  const announce = error.step === "announce";
  log("error", announce ? "admin.announce_failed" : "admin.propagation_failed", {
    request_id: c.get("requestId"),
    key_id: keyId,
    degraded: announce ? "key_object_unavailable" : "propagation_incomplete",
    error: error.causeName,
  });
}

/**
 * Makes a change everywhere in the order that fails closed (see changeKey: announce, D1 via `write`, re-read,
 * push) and answers the key object as D1 now has it. 503 if the object cannot be told first (nothing
 * written) or the push fails (the change is in D1; retrying the call completes it).
 */
export async function changeAndAnswer(
  c: AdminContext,
  record: Pick<KeyRecord, "id" | "lineage_id">,
  now: number,
  write: () => Promise<unknown>,
): Promise<Response> {
  let current;
  try {
    ({ current } = await changeKey(c.env, record, write));
  } catch (error) {
    if (!(error instanceof KeyChangeFailed)) throw error;
    logKeyChangeFailure(c, record.id, error);
    throw new ProblemError("authorizer_unavailable", { retryAfterSeconds: 1 });
  }
  if (!current) throw new ProblemError("key_not_found");
  return adminJson(c, toKeyView(current.record, now));
}
