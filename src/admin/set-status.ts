/**
 * POST /admin/v1/keys/{id}/disable and /enable. A disabled key is refused as `key_disabled` until enabled;
 * revoked is final (409). Both are idempotent: disabling a disabled key changes nothing and answers 200.
 */
import { ProblemError } from "../http/problem";
import { setKeyStatus } from "../keys/store";
import { readJson } from "./read-request";
import { clock } from "../util/clock";
import { auditEntry, findKeyOr404, keyIdParam, type AdminContext } from "./context";
import { emptyBodySchema } from "./schemas";
import { changeAndAnswer } from "./update-key";

function statusChange(from: "active" | "disabled", to: "active" | "disabled", action: "disable" | "enable") {
  return async function changeStatus(c: AdminContext): Promise<Response> {
    const id = keyIdParam(c);
    await readJson(c.req.raw, emptyBodySchema, { emptyAllowed: true });
    const { record } = await findKeyOr404(c, id);
    if (record.status === "revoked") throw new ProblemError("key_state_conflict");
    const now = clock.now();
    return changeAndAnswer(c, record, now, () => setKeyStatus(c.env.DB, id, from, to, auditEntry(c, action, now, { status: to })));
  };
}

export const disableKey = statusChange("active", "disabled", "disable");
export const enableKey = statusChange("disabled", "active", "enable");
