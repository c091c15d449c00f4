/**
 * Findings from external scanners (gitleaks, truffleHog) turned into leak reports, and the answer the ingest
 * routes give: one result per finding. Only a full key or admin credential — the grammar with a valid
 * checksum under the configured vendor — can match one; a redacted secret, a prefix, a fingerprint alone or
 * another vendor's string is `not_a_key`: looked up nowhere, revoking nothing.
 */
import * as z from "zod";
import { parseCredential, parseKey } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import { LEAK_OUTCOMES, type LeakSource } from "./events";
import type { LeakReport, LeakResult } from "./process";
import { safeText } from "./redact";
import type { SubjectHashes } from "./subjects";

/** The longest fingerprint kept as written; longer ones are stored as their SHA-256. */
const MAX_FINGERPRINT_LENGTH = 400;

export interface Finding {
  /** The secret as the scanner reported it (perhaps redacted). */
  secret: string;
  /** The scanner's own id of the finding (gitleaks' Fingerprint), or one made from its location. */
  id: string;
  location: string;
}

const FINDING_STATUSES = [...LEAK_OUTCOMES, "not_a_key"] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

const findingResultSchema = z.object({
  index: z.int().min(0),
  status: z.enum(FINDING_STATUSES),
  key_id: z.string().nullable(),
  /** Already reported before: nothing was done for it this time. */
  duplicate: z.boolean(),
});
type FindingResult = z.output<typeof findingResultSchema>;

const count = z.int().min(0);

/** What an ingest route answers: one result per finding, in order, and how many had each status. */
export const ingestSummarySchema = z.object({
  results: z.array(findingResultSchema),
  counts: z.object({
    revoked: count,
    already_revoked: count,
    recorded: count,
    no_match: count,
    not_a_key: count,
    duplicate: count,
  }),
});
export type IngestSummary = z.output<typeof ingestSummarySchema>;

/** A stable event fingerprint: the scanner's id (redacted, bounded) and a digest that tells two secrets on one line apart. */
async function findingFingerprint(source: string, id: string, secret: string): Promise<string> {
  const secretDigest = (await sha256Hex(`${source}\n${secret}`)).slice(0, 16);
  const clean = safeText(id, Number.MAX_SAFE_INTEGER);
  const idPart = clean.length > MAX_FINGERPRINT_LENGTH ? await sha256Hex(clean) : clean;
  return `${source}:${idPart}#${secretDigest}`;
}

/**
 * The reports of the findings that are full keys or admin credentials, each with the index of its finding;
 * the others leave no event.
 */
export async function findingReports(
  source: LeakSource,
  vendor: string,
  findings: readonly Finding[],
): Promise<{ index: number; report: LeakReport }[]> {
  const keyed: { index: number; report: LeakReport }[] = [];
  for (const [index, finding] of findings.entries()) {
    const hashes = await reportHashes(finding.secret, vendor);
    if (!hashes.keyHash && !hashes.credentialHash) continue;
    keyed.push({
      index,
      report: {
        ...hashes,
        fingerprint: await findingFingerprint(source, finding.id, finding.secret),
        location: safeText(finding.location),
      },
    });
  }
  return keyed;
}

/**
 * Where a reported string may be found: its hash as a key if it parses as one of this deployment's keys, as a
 * credential if it parses as one of its admin credentials; neither (no lookup at all) otherwise.
 */
export async function reportHashes(secret: string, vendor: string): Promise<SubjectHashes> {
  const isKey = parseKey(secret, vendor) !== null;
  const isCredential = !isKey && parseCredential(secret, vendor) !== null;
  const hash = isKey || isCredential ? await sha256Hex(secret) : null;
  return { keyHash: isKey ? hash : null, credentialHash: isCredential ? hash : null };
}

/** One result per finding: `not_a_key` for those without a report, else what processing its report gave. */
export function summarizeFindings(
  findingCount: number,
  keyed: readonly { index: number }[],
  processed: readonly LeakResult[],
): IngestSummary {
  const results: FindingResult[] = Array.from({ length: findingCount }, (_, index) => ({
    index,
    status: "not_a_key",
    key_id: null,
    duplicate: false,
  }));
  keyed.forEach(({ index }, i) => {
    const r = processed[i]!;
    results[index] = { index, status: r.outcome, key_id: r.key_id, duplicate: r.duplicate };
  });
  return { results, counts: countResults(results) };
}

export function countResults(
  results: readonly { status: FindingStatus; duplicate: boolean }[],
): IngestSummary["counts"] {
  const counts = { revoked: 0, already_revoked: 0, recorded: 0, no_match: 0, not_a_key: 0, duplicate: 0 };
  for (const r of results) {
    if (r.duplicate) counts.duplicate++;
    else counts[r.status]++;
  }
  return counts;
}
