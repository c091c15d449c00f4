/**
 * The reports scanners send, as findings or leak reports: a gitleaks JSON report, truffleHog's JSON lines, and
 * the built-in scanner's `--report` (hashes and locations, never a key). The bodies are validated before they
 * get here (./schemas.ts).
 */
import type * as z from "zod";
import { sha256Hex } from "../keys/hash";
import type { Finding } from "./ingest";
import type { LeakReport } from "./process";
import { safeText } from "./redact";
import type { gitleaksReportSchema, scannerReportSchema, trufflehogLineSchema } from "./schemas";

/** Where a gitleaks finding was: its link, or file:line at a commit. */
function gitleaksLocation(f: {
  Link?: string;
  File?: string;
  SymlinkFile?: string;
  StartLine?: number;
  Commit?: string;
}): string {
  if (f.Link) return f.Link;
  const file = f.File || f.SymlinkFile || "(unknown file)";
  return `${file}:${f.StartLine ?? 0}${f.Commit ? ` @ ${f.Commit.slice(0, 12)}` : ""}`;
}

/** The findings of a gitleaks report, one per entry. */
export function gitleaksFindings(report: z.output<typeof gitleaksReportSchema>): Finding[] {
  return report.map((f) => ({
    secret: f.Secret,
    // gitleaks' own fingerprint is commit:file:rule:line; without one, the same parts.
    id: f.Fingerprint || `${f.Commit ?? ""}:${f.File ?? ""}:${f.RuleID ?? ""}:${f.StartLine ?? 0}`,
    location: gitleaksLocation(f),
  }));
}

/** Where a truffleHog result was found: a link, or file:line in a repository at a commit. */
function trufflehogLocation(
  data:
    | Record<string, { file?: string; line?: number; commit?: string; repository?: string; link?: string }>
    | undefined,
) {
  const [kind, place] = Object.entries(data ?? {})[0] ?? ["unknown", {}];
  if (place.link) return { id: place.link, location: place.link };
  const where = `${place.repository ? `${place.repository} ` : ""}${place.file ?? `(${kind})`}:${place.line ?? 0}`;
  return {
    id: `${place.commit ?? ""}:${where}`,
    location: `${where}${place.commit ? ` @ ${place.commit.slice(0, 12)}` : ""}`,
  };
}

/** The finding of one truffleHog result line. */
export function trufflehogFinding(r: z.output<typeof trufflehogLineSchema>): Finding {
  const { id, location } = trufflehogLocation(r.SourceMetadata?.Data);
  return { secret: r.Raw.trim(), id: `${r.DetectorName ?? ""}:${id}`, location };
}

/** The reports of the built-in scanner's findings, one per finding. */
export function scannerReports(findings: z.output<typeof scannerReportSchema>["findings"]): Promise<LeakReport[]> {
  return Promise.all(
    findings.map(async (f) => ({
      // Only the hash was sent, so it may be a key or an admin credential: both tables are asked.
      keyHash: f.key_hash,
      credentialHash: f.key_hash,
      // One event per key per place; the fingerprint mixes both so it is not the key's hash.
      fingerprint: `scanner:${await sha256Hex(`scanner\n${f.key_hash}\n${f.location}`)}`,
      location: safeText(f.location),
    })),
  );
}
