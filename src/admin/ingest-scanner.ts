/**
 * POST /admin/v1/leaks/scanner: the built-in scanner's `--report` (hashes and locations, never a key);
 * recorded, or revoked with `revoke: true`.
 */
import { readJsonBody, validate } from "../http/json-body";
import { MAX_REPORT_BYTES, scannerReportSchema } from "../leaks/schemas";
import { ingestScannerReport } from "../operations/ingest-findings";
import type { AdminContext } from "./context";
import { ingestOperation, limitIngest } from "./leak-ingest";
import { clock } from "../util/clock";

export async function ingestScannerRoute(c: AdminContext) {
  const now = clock.now();
  limitIngest(c, now);
  const body = validate(scannerReportSchema, await readJsonBody(c.req.raw, MAX_REPORT_BYTES));
  return ingestScannerReport(ingestOperation(c), { ...body, reportedAt: now });
}
