/**
 * The monitoring routes of the admin API (mounted from src/admin/operations.ts): usage per key and in
 * total, alerts, and the security report. Thin: validate, read, answer.
 */
import * as z from "zod";
import { invalidField, validate } from "../http/body";
import { adminJson, findKeyOr404, keyIdParam, type AdminContext } from "../admin/context";
import { KEY_ID_PATTERN } from "../admin/schemas";
import { ProblemError } from "../http/problem";
import { log } from "../util/log";
import { clock } from "../util/clock";
import { DAY_MS, isCalendarDay, utcDay, utcDayStart } from "../util/time";
import { listAlerts as listAlertsInD1, toAlertObject } from "./alerts";
import { loadMonitoringConfig, type MonitoringConfig } from "./config";
import { buildReport, renderMarkdown } from "./report";
import { readUsage } from "./usage-store";

/** The longest range one usage query may cover. */
export const MAX_USAGE_RANGE_DAYS = 366;
/** The range when none is given: the last 30 days, today included. */
const DEFAULT_USAGE_DAYS = 30;

const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "a UTC day as YYYY-MM-DD")
  .refine(isCalendarDay, "not a calendar day");

export const usageQuery = z.strictObject({ from: isoDay.optional(), to: isoDay.optional() });

export const alertsQuery = z.strictObject({
  status: z.enum(["open", "all"]).default("all"),
  key_id: z.string().regex(KEY_ID_PATTERN).optional(),
  rule: z.enum(["new_network", "traffic_spike", "refusal_burst", "revoked_key_use"]).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().regex(/^[1-9][0-9]{0,15}$/, "not a cursor from a previous page").optional(),
});

export const reportQuery = z.strictObject({ format: z.enum(["markdown", "json"]).default("markdown") });

function monitoringConfig(c: AdminContext): MonitoringConfig {
  const loaded = loadMonitoringConfig(c.env);
  if (!loaded.ok) {
    log("error", "monitoring.config_invalid", { degraded: "config_invalid", setting: loaded.setting });
    throw new ProblemError("authorizer_unavailable", { retryAfterSeconds: 60 });
  }
  return loaded.config;
}

function usageRange(c: AdminContext): { from: string; to: string } {
  const query = validate(usageQuery, c.req.query());
  const to = query.to ?? utcDay(clock.now());
  const from = query.from ?? utcDay(utcDayStart(to) - (DEFAULT_USAGE_DAYS - 1) * DAY_MS);
  if (from > to) throw invalidField("from", "must not be after to");
  const days = (utcDayStart(to) - utcDayStart(from)) / DAY_MS + 1;
  if (days > MAX_USAGE_RANGE_DAYS) throw invalidField("from", `the range may cover at most ${MAX_USAGE_RANGE_DAYS} days`);
  return { from, to };
}

/** GET /admin/v1/keys/{id}/usage?from=&to= — one key's decisions per UTC day and outcome. */
export async function getKeyUsage(c: AdminContext): Promise<Response> {
  const id = keyIdParam(c);
  const range = usageRange(c);
  await findKeyOr404(c, id);
  return adminJson(c, { key_id: id, ...(await readUsage(c.env.DB, { ...range, keyId: id })) });
}

/** GET /admin/v1/usage?from=&to= — every decision, keyed or not, per UTC day and outcome. */
export async function getUsage(c: AdminContext): Promise<Response> {
  return adminJson(c, await readUsage(c.env.DB, usageRange(c)));
}

/** GET /admin/v1/alerts?status=open|all&key_id=&rule=&limit=&cursor= — newest first. */
export async function listAlerts(c: AdminContext): Promise<Response> {
  const query = validate(alertsQuery, c.req.query());
  const config = monitoringConfig(c);
  const now = clock.now();
  const rows = await listAlertsInD1(
    c.env.DB,
    { keyId: query.key_id, rule: query.rule, openOnly: query.status === "open", limit: query.limit + 1, before: query.cursor ? Number(query.cursor) : undefined },
    now,
    config.dedupeMs,
  );
  const page = rows.slice(0, query.limit);
  const next = rows.length > query.limit ? String(page[page.length - 1]!.id) : null;
  return adminJson(c, { alerts: page.map((r) => toAlertObject(r, now, config.dedupeMs)), next_cursor: next });
}

/** GET /admin/v1/report?format=markdown|json — the API Key Security Implementation Report, from live data. */
export async function getReport(c: AdminContext): Promise<Response> {
  const query = validate(reportQuery, c.req.query());
  const config = monitoringConfig(c);
  const report = await buildReport(c.env, config, clock.now());
  if (query.format === "json") return adminJson(c, report);
  return c.body(renderMarkdown(report), 200, { "Content-Type": "text/markdown; charset=utf-8", "Cache-Control": "no-store" });
}
