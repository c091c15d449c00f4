/** GET /admin/v1/report?format=markdown|json — the API Key Security Implementation Report, from live data. */
import { validate } from "../http/json-body";
import { renderMarkdown } from "../monitoring/report-markdown";
import { getReport } from "../operations/get-report";
import { reportQuery } from "../operations/schemas";
import { adminOperation, monitoringConfig, type AdminContext } from "./context";

/** The report as JSON (answered by the router), or the Markdown response. */
export async function getReportRoute(c: AdminContext) {
  const query = validate(reportQuery, c.req.query());
  const report = await getReport(adminOperation(c), monitoringConfig(c));
  if (query.format === "json") return report;
  return c.body(renderMarkdown(report), 200, {
    "Content-Type": "text/markdown; charset=utf-8",
    "Cache-Control": "no-store",
  });
}
