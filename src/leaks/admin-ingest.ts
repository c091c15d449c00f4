/**
 * Admin routes that feed findings in (under /admin/v1/leaks, behind the admin credential):
 * - POST /leaks/gitleaks: a gitleaks JSON report; the full keys in it are revoked;
 * - POST /leaks/scanner: the built-in scanner's `--report` (hashes and locations); recorded, or revoked with `revoke`.
 * Each is rate-limited per caller, bounded in size, validated whole before anything is revoked, and answers
 * one result per finding. A replay of the same findings is idempotent.
 */
import type { AdminContext } from "../admin/context";
import { adminConfig, adminJson } from "../admin/context";
import { sha256Hex } from "../keys/hash";
import { ProblemError } from "../http/problem";
import { clock } from "../util/clock";
import { readJsonBody, validate } from "../http/body";
import type { LeakSource } from "./events";
import { countResults, ingestFindings, type Finding } from "./ingest";
import { processLeakReports, type LeakContext } from "./process";
import { safeText } from "./redact";
import { takeLeakRouteSlot } from "./route-limit";
import { gitleaksReportSchema, MAX_REPORT_BYTES, scannerReportSchema } from "./schemas";

function limitIngest(c: AdminContext, now: number) {
  const caller = `${c.get("actor")}|${c.req.header("CF-Connecting-IP") ?? ""}`;
  const retryAt = takeLeakRouteSlot("ingest", caller, now);
  if (retryAt !== null) throw new ProblemError("rate_limited", { retryAfterSeconds: Math.max(1, Math.ceil((retryAt - now) / 1000)) });
}

function leakContext(c: AdminContext, source: LeakSource, revoke: boolean, reportedAt: number): LeakContext {
  return {
    env: c.env,
    waitUntil: (p) => c.executionCtx.waitUntil(p),
    source,
    actor: c.get("actor"),
    requestId: c.get("requestId"),
    revoke,
    reportedAt,
  };
}

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
  return adminJson(c, await ingestFindings(leakContext(c, "gitleaks", true, now), vendor, findings));
}

export async function ingestScannerReport(c: AdminContext): Promise<Response> {
  const now = clock.now();
  limitIngest(c, now);
  const body = validate(scannerReportSchema, await readJsonBody(c.req.raw, MAX_REPORT_BYTES));
  const reports = await Promise.all(
    body.findings.map(async (f) => ({
      keyHash: f.key_hash,
      // One event per key per place; the fingerprint mixes both so it is not the key's hash.
      fingerprint: `scanner:${await sha256Hex(`scanner\n${f.key_hash}\n${f.location}`)}`,
      location: safeText(f.location),
    })),
  );
  const processed = await processLeakReports(leakContext(c, "scanner", body.revoke, now), reports);
  const results = processed.map((r, index) => ({ index, status: r.outcome, key_id: r.key_id, duplicate: r.duplicate }));
  return adminJson(c, { results, counts: countResults(results) });
}
