/** POST /admin/v1/leaks/gitleaks: a gitleaks JSON report; the full keys in it are revoked. */
import { readJsonBody, validate } from "../http/json-body";
import { ingestFindings, type Finding } from "../leaks/ingest";
import { gitleaksReportSchema, MAX_REPORT_BYTES } from "../leaks/schemas";
import { adminConfig, adminJson, type AdminContext } from "./context";
import { adminLeakContext, limitIngest } from "./leak-ingest";
import { clock } from "../util/clock";

/** Where a gitleaks finding was: its link, or file:line at a commit. */
function gitleaksLocation(f: { Link?: string; File?: string; SymlinkFile?: string; StartLine?: number; Commit?: string }): string {
  if (f.Link) return f.Link;
  const file = f.File || f.SymlinkFile || "(unknown file)";
  return `${file}:${f.StartLine ?? 0}${f.Commit ? ` @ ${f.Commit.slice(0, 12)}` : ""}`;
}

export async function ingestGitleaks(c: AdminContext): Promise<Response> {
  const now = clock.now();
  limitIngest(c, now);
  const report = validate(gitleaksReportSchema, await readJsonBody(c.req.raw, MAX_REPORT_BYTES));
  const { vendor } = adminConfig(c);
  const findings: Finding[] = report.map((f) => ({
    secret: f.Secret,
    // gitleaks' own fingerprint is commit:file:rule:line; without one, the same parts.
    id: f.Fingerprint || `${f.Commit ?? ""}:${f.File ?? ""}:${f.RuleID ?? ""}:${f.StartLine ?? 0}`,
    location: gitleaksLocation(f),
  }));
  return adminJson(c, await ingestFindings(adminLeakContext(c, "gitleaks", true, now), vendor, findings));
}
