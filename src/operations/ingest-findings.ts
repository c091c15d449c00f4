/**
 * Ingest scanners' findings through the admin API: gitleaks' and truffleHog's (full secrets: the live keys in
 * them are revoked) and the built-in scanner's (hashes and locations: recorded, or revoked when asked). One
 * result per finding; a replay of the same findings is idempotent.
 */
import type * as z from "zod";
import type { Config } from "../config";
import { countResults, findingReports, summarizeFindings, type Finding, type IngestSummary } from "../leaks/ingest";
import { scannerReports } from "../leaks/report-formats";
import type { scannerReportSchema } from "../leaks/schemas";
import type { AdminActor } from "./actor";
import type { OperationContext } from "./context";
import { ingestLeakReports } from "./ingest-leak-reports";

/** Findings that carry the secret; those that are not full keys get `not_a_key` and leave no event. */
export async function ingestFindings(
  ctx: OperationContext<AdminActor>,
  input: { source: "gitleaks" | "trufflehog"; findings: readonly Finding[]; reportedAt: number },
  config: Config,
): Promise<IngestSummary> {
  const keyed = await findingReports(input.source, config.vendor, input.findings);
  const processed = await ingestLeakReports(ctx, {
    source: input.source,
    revoke: true,
    reportedAt: input.reportedAt,
    reports: keyed.map((k) => k.report),
  });
  return summarizeFindings(input.findings.length, keyed, processed);
}

export type ScannerReportInput = z.output<typeof scannerReportSchema>;

/** The built-in scanner's report: recorded (the owners told), or revoked with `revoke: true`. */
export async function ingestScannerReport(
  ctx: OperationContext<AdminActor>,
  input: ScannerReportInput & { reportedAt: number },
): Promise<IngestSummary> {
  const reports = await scannerReports(input.findings);
  const processed = await ingestLeakReports(ctx, {
    source: "scanner",
    revoke: input.revoke,
    reportedAt: input.reportedAt,
    reports,
  });
  const results = processed.map((r, index) => ({ index, status: r.outcome, key_id: r.key_id, duplicate: r.duplicate }));
  return { results, counts: countResults(results) };
}
