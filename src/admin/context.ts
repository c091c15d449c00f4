/** What every admin operation needs from its request: the key id, the settings, an audit entry. */
import type { Context } from "hono";
import type { AppEnv } from "../http/context";
import { loadConfig, type Config } from "../config";
import { configUnavailable, ProblemError } from "../http/problem";
import type { AuditAction, AuditEntry } from "../keys/audit-log";
import { KEY_ID_PATTERN } from "../keys/key-record";
import { findKeyById } from "../keys/store";
import { loadMonitoringConfig, type MonitoringConfig } from "../monitoring/config";
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

export async function findKeyOr404(c: AdminContext, id: string) {
  const found = await findKeyById(c.env.DB, id);
  if (!found) throw new ProblemError("key_not_found");
  return found;
}

export function auditEntry(c: AdminContext, action: AuditAction, at: number, changes: Record<string, unknown>): AuditEntry {
  c.set("auditAction", action);
  return { actor: c.get("actor"), action, requestId: c.get("requestId"), at, changes };
}

/** JSON answers of the admin API are never cached. */
export function adminJson(c: AdminContext, body: unknown, status: 200 | 201 = 200): Response {
  return c.json(body, status, { "Cache-Control": "no-store" });
}
