/**
 * One structured log line per refusal and per admin mutation, written after the response is built: the
 * request id, the key id where one is known, the problem code or the admin action, the admin principal, and
 * the status. A scoped credential's or an Access identity's reads get a line too (`admin.read`, naming the
 * route's pattern, never its ids), so every use of a narrow principal can be traced to it. Never a key, a
 * hash or a body (see src/util/log.ts).
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";
import { log, logRefusal } from "../util/log";
import { problemCodeOf } from "./problem";

export function requestLog(): MiddlewareHandler<AppEnv> {
  return async function requestLogMiddleware(c, next) {
    await next();
    const code = problemCodeOf(c.res);
    const fields = {
      request_id: c.get("requestId"),
      key_id: c.get("keyId"),
      method: c.req.method,
      status: c.res.status,
    };
    if (code !== undefined) {
      // An admin change that failed part-way also names the action it was attempting.
      logRefusal(c.res.status >= 500 ? "warn" : "info", {
        ...fields,
        code,
        action: c.get("auditAction"),
        actor: c.get("actor"),
      });
    } else if (c.get("auditAction") !== undefined) {
      log("info", "admin.mutation", { ...fields, code: c.get("auditAction"), actor: c.get("actor") });
    } else if (c.get("actor") !== undefined && !c.get("actor")!.startsWith("ADMIN_TOKEN")) {
      log("info", "admin.read", { ...fields, route: c.req.routePath, actor: c.get("actor") });
    }
  };
}
