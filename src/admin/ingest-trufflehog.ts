/**
 * POST /admin/v1/leaks/trufflehog: truffleHog's JSON lines (application/x-ndjson), validated whole, then
 * ingested like a gitleaks report: the live keys in it are revoked, one result per line.
 */
import { ProblemError } from "../http/problem";
import { decodeUtf8, invalidField, parseJsonStrict, readBoundedBytes } from "../http/json-body";
import type { Finding } from "../leaks/ingest";
import { trufflehogFinding } from "../leaks/report-formats";
import { MAX_FINDINGS_PER_REPORT, MAX_REPORT_BYTES, trufflehogLineSchema } from "../leaks/schemas";
import { ingestFindings } from "../operations/ingest-findings";
import { adminConfig, type AdminContext } from "./context";
import { ingestOperation, limitIngest } from "./leak-ingest";
import { clock } from "../util/clock";

export async function ingestTrufflehogRoute(c: AdminContext) {
  const now = clock.now();
  limitIngest(c, now);
  if (!/^application\/(x-ndjson|jsonl|json-lines)\s*(;|$)/i.test(c.req.header("Content-Type") ?? ""))
    throw new ProblemError("unsupported_media_type");
  const lines = decodeUtf8(await readBoundedBytes(c.req.raw, MAX_REPORT_BYTES))
    .split("\n")
    .map((line, n) => ({ line: line.trim(), n }))
    .filter(({ line }) => line !== "");
  if (lines.length > MAX_FINDINGS_PER_REPORT)
    throw invalidField("", `at most ${MAX_FINDINGS_PER_REPORT} results per report`);
  const findings: Finding[] = lines.map(({ line, n }) => {
    let value: unknown;
    try {
      value = parseJsonStrict(line);
    } catch {
      throw invalidField(`line ${n + 1}`, "not a JSON object");
    }
    const result = trufflehogLineSchema.safeParse(value);
    if (!result.success) {
      const errors = result.error.issues.map((i) => ({
        path: [`line ${n + 1}`, ...i.path].join("."),
        message: i.message,
      }));
      throw new ProblemError("invalid_request", { extra: { errors } });
    }
    return trufflehogFinding(result.data);
  });
  const config = adminConfig(c);
  return ingestFindings(ingestOperation(c), { source: "trufflehog", findings, reportedAt: now }, config);
}
