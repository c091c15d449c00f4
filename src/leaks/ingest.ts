/**
 * Findings from external scanners (gitleaks, truffleHog) and from the built-in scanner, turned into leak
 * reports. Only a full key — the grammar with a valid checksum under the configured vendor — can match a
 * key; a redacted secret, a prefix or a fingerprint alone matches nothing and revokes nothing.
 */
import { parseKey } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import type { LeakOutcome } from "./events";
import { processLeakReports, type LeakContext, type LeakReport } from "./process";
import { safeText } from "./redact";

/** The longest fingerprint kept as written; longer ones are stored as their SHA-256. */
const MAX_FINGERPRINT_LENGTH = 400;

export interface Finding {
  /** The secret as the scanner reported it (perhaps redacted). */
  secret: string;
  /** The scanner's own id of the finding (gitleaks' Fingerprint), or one made from its location. */
  id: string;
  location: string;
}

export type FindingStatus = LeakOutcome | "not_a_key";

export interface FindingResult {
  index: number;
  status: FindingStatus;
  key_id: string | null;
  /** Already reported before: nothing was done for it this time. */
  duplicate: boolean;
}

export interface IngestSummary {
  results: FindingResult[];
  counts: Record<FindingStatus | "duplicate", number>;
}

/** A stable event fingerprint: the scanner's id (redacted, bounded) and a digest that tells two secrets on one line apart. */
export async function findingFingerprint(source: string, id: string, secret: string): Promise<string> {
  const secretDigest = (await sha256Hex(`${source}\n${secret}`)).slice(0, 16);
  const clean = safeText(id, Number.MAX_SAFE_INTEGER);
  const idPart = clean.length > MAX_FINGERPRINT_LENGTH ? await sha256Hex(clean) : clean;
  return `${source}:${idPart}#${secretDigest}`;
}

/** Processes findings; those that are not full keys get `not_a_key` and leave no event. */
export async function ingestFindings(ctx: LeakContext, vendor: string, findings: readonly Finding[]): Promise<IngestSummary> {
  const keyed: { index: number; report: LeakReport }[] = [];
  for (const [index, finding] of findings.entries()) {
    if (!parseKey(finding.secret, vendor)) continue;
    keyed.push({
      index,
      report: {
        keyHash: await sha256Hex(finding.secret),
        fingerprint: await findingFingerprint(ctx.source, finding.id, finding.secret),
        location: safeText(finding.location),
      },
    });
  }
  const processed = await processLeakReports(ctx, keyed.map((k) => k.report));
  const results: FindingResult[] = findings.map((_, index) => ({ index, status: "not_a_key", key_id: null, duplicate: false }));
  keyed.forEach(({ index }, i) => {
    const r = processed[i]!;
    results[index] = { index, status: r.outcome, key_id: r.key_id, duplicate: r.duplicate };
  });
  return { results, counts: countResults(results) };
}

export function countResults(results: readonly { status: FindingStatus; duplicate: boolean }[]) {
  const counts = { revoked: 0, already_revoked: 0, recorded: 0, no_match: 0, not_a_key: 0, duplicate: 0 };
  for (const r of results) {
    if (r.duplicate) counts.duplicate++;
    else counts[r.status]++;
  }
  return counts;
}
