/**
 * Disable and enable a key. A disabled key is refused as `key_disabled` until enabled; revoked is final (409).
 * Both are idempotent: disabling a disabled key changes nothing and answers the key.
 */
import { ProblemError } from "../http/problem";
import type { KeyView } from "../keys/key-record";
import { setKeyStatus } from "../keys/store";
import type { AdminActor } from "./actor";
import { auditEntry, type OperationContext } from "./context";
import { applyKeyChange, requireKey } from "./key-change";
import { clock } from "../util/clock";

function statusChange(from: "active" | "disabled", to: "active" | "disabled", action: "disable" | "enable") {
  return async function changeStatus(ctx: OperationContext<AdminActor>, id: string): Promise<KeyView> {
    const { record } = await requireKey(ctx, id);
    if (record.status === "revoked") throw new ProblemError("key_state_conflict");
    const now = clock.now();
    return applyKeyChange(ctx, record, now, () =>
      setKeyStatus(ctx.env.DB, id, from, to, auditEntry(ctx, action, now, { status: to })),
    );
  };
}

export const disableKey = statusChange("active", "disabled", "disable");
export const enableKey = statusChange("disabled", "active", "enable");
