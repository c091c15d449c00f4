/**
 * Change a key's settings. D1 first (with the audit row), then the change is propagated (the key's object,
 * leases, caches) before the operation returns. A revoked key cannot be changed.
 */
import type * as z from "zod";
import type { Config } from "../config";
import { invalidField } from "../http/json-body";
import { ProblemError } from "../http/problem";
import type { KeyView } from "../keys/key-record";
import { updateKeySettings, type KeySettings } from "../keys/store";
import type { AdminActor } from "./actor";
import { auditEntry, type OperationContext } from "./context";
import { applyKeyChange, requireKey } from "./key-change";
import { keyTypeIssues, type updateKeySchema } from "./schemas";
import { clock } from "../util/clock";
import { DAY_MS } from "../util/time";

export type UpdateKeyInput = z.output<typeof updateKeySchema>;

export async function updateKey(
  ctx: OperationContext<AdminActor>,
  id: string,
  input: UpdateKeyInput,
  config: Config,
): Promise<KeyView> {
  const { record } = await requireKey(ctx, id);
  if (record.status === "revoked") throw new ProblemError("key_state_conflict");

  const issue = keyTypeIssues(record.type, input)[0];
  if (issue) throw invalidField(...issue);
  const now = clock.now();
  const { expires_at, ...rest } = input;
  const settings: KeySettings = { ...rest };
  if (expires_at !== undefined) {
    const at = Date.parse(expires_at);
    if (at <= now || at > now + config.maxLifetimeDays * DAY_MS) {
      throw invalidField(
        "expires_at",
        `must be in the future and within ${config.maxLifetimeDays} days (MAX_KEY_LIFETIME_DAYS)`,
      );
    }
    settings.expires_at = at;
  }

  return applyKeyChange(ctx, record, now, async () => {
    const { changed } = await updateKeySettings(
      ctx.env.DB,
      id,
      record.version,
      settings,
      auditEntry(ctx, "update", now, input),
    );
    // Nothing matched: the key was revoked or changed by someone else since we read it.
    if (!changed) throw new ProblemError("key_state_conflict");
  });
}
