/** POST /admin/v1/leaks/gitleaks: a gitleaks JSON report; the full keys in it are revoked. */
import { readJsonBody, validate } from "../http/json-body";
import { gitleaksFindings } from "../leaks/report-formats";
import { gitleaksReportSchema, MAX_REPORT_BYTES } from "../leaks/schemas";
import { ingestFindings } from "../operations/ingest-findings";
import { adminConfig, type AdminContext } from "./context";
import { ingestOperation, limitIngest } from "./leak-ingest";
import { clock } from "../util/clock";

export async function ingestGitleaksRoute(c: AdminContext) {
  const now = clock.now();
  limitIngest(c, now);
  const report = validate(gitleaksReportSchema, await readJsonBody(c.req.raw, MAX_REPORT_BYTES));
  const config = adminConfig(c);
  return ingestFindings(
    ingestOperation(c),
    { source: "gitleaks", findings: gitleaksFindings(report), reportedAt: now },
    config,
  );
}
