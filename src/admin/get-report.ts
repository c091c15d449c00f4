/** GET /admin/v1/report?format=markdown|json — the API Key Security Implementation Report, from live data. */
import { validate } from "../http/json-body";
import { buildReport } from "../monitoring/report";
import { renderMarkdown } from "../monitoring/report-markdown";
import { adminJson, monitoringConfig, type AdminContext } from "./context";
import { reportQuery } from "./schemas";
import { clock } from "../util/clock";

export async function getReport(c: AdminContext): Promise<Response> {
  const query = validate(reportQuery, c.req.query());
  const config = monitoringConfig(c);
  const report = await buildReport(c.env, config, clock.now());
  if (query.format === "json") return adminJson(c, report);
  return c.body(renderMarkdown(report), 200, { "Content-Type": "text/markdown; charset=utf-8", "Cache-Control": "no-store" });
}
