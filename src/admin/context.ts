/** What every admin route needs from its request: the settings, the key id, and the operation's context. */
import type { Context } from "hono";
import type { AppEnv } from "../http/context";
import { loadConfig, type Config } from "../config";
import { CONSUMER_ID_PATTERN } from "../consumers/consumer-record";
import { configUnavailable, ProblemError } from "../http/problem";
import { requestScope } from "../http/request-scope";
import { KEY_ID_PATTERN } from "../keys/key-record";
import { loadMonitoringConfig, type MonitoringConfig } from "../monitoring/config";
import type { AdminActor } from "../operations/actor";
import type { OperationContext } from "../operations/context";
import { log } from "../util/log";
import type { AdminVariables } from "./auth";

export type AdminContext = Context<AppEnv & { Variables: AdminVariables }>;

/** The deployment settings, or 503 if they are malformed. */
export function adminConfig(c: AdminContext): Config {
  const loaded = loadConfig(c.env);
  if (!loaded.ok) throw configUnavailable();
  return loaded.config;
}

/** The monitoring settings (alerts, the report), or 503 if they are malformed. */
export function monitoringConfig(c: AdminContext): MonitoringConfig {
  const loaded = loadMonitoringConfig(c.env);
  if (!loaded.ok) {
    log("error", "monitoring.config_invalid", { degraded: "config_invalid", setting: loaded.setting });
    throw configUnavailable();
  }
  return loaded.config;
}

/** The `{id}` path parameter; an id that cannot exist is simply not found. */
export function keyIdParam(c: AdminContext): string {
  const id = c.req.param("id") ?? "";
  if (!KEY_ID_PATTERN.test(id)) throw new ProblemError("key_not_found");
  c.set("keyId", id);
  return id;
}

/**
 * The `{id}` path parameter of a consumer route; an id that cannot be a consumer's (a "." or ".." segment,
 * which only a raw path could carry this far) is simply not found: such an old owner is found with
 * GET /consumers?id=.
 */
export function consumerIdParam(c: AdminContext): string {
  const id = c.req.param("id") ?? "";
  if (!CONSUMER_ID_PATTERN.test(id)) throw new ProblemError("consumer_not_found");
  return id;
}

/** The context the request's operation runs in: its admin credential acts, and the request log hears of the key and action. */
export function adminOperation(c: AdminContext): OperationContext<AdminActor> {
  return {
    ...requestScope(c),
    actor: c.get("adminActor"),
    observe: { keyId: (id) => c.set("keyId", id), auditAction: (action) => c.set("auditAction", action) },
  };
}

/** JSON answers of the admin API are never cached. */
export function adminJson(c: AdminContext, body: unknown, status: 200 | 201 = 200): Response {
  return c.json(body, status, { "Cache-Control": "no-store" });
}
