/**
 * The leak ingest bodies. External report formats are read leniently: unknown fields (gitleaks adds `Link`,
 * `Fragment` and others between versions) are ignored, while the fields used must have their documented
 * types, or the whole report is refused with each problem's path and nothing is processed.
 */
import * as z from "zod";

/** The most findings one report may carry; a full-history scan of a large repository stays well below. */
export const MAX_FINDINGS_PER_REPORT = 5000;
/** The largest ingest body (gitleaks JSON, truffleHog JSON lines, scanner findings). */
export const MAX_REPORT_BYTES = 4 * 1024 * 1024;

const text = (max: number) => z.string().max(max);

/** One gitleaks finding (gitleaks `--report-format json`); only these fields are read. */
const gitleaksFindingSchema = z.looseObject({
  RuleID: text(256).optional(),
  Secret: text(65_536),
  File: text(4096).optional(),
  SymlinkFile: text(4096).optional(),
  Link: text(4096).optional(),
  Commit: text(256).optional(),
  StartLine: z.int().min(0).optional(),
  Fingerprint: text(8192).optional(),
});

export const gitleaksReportSchema = z.array(gitleaksFindingSchema).max(MAX_FINDINGS_PER_REPORT);

/** What `npm run scan -- --report` sends: hashes and locations, never a key. */
export const scannerReportSchema = z.strictObject({
  findings: z
    .array(
      z.strictObject({
        key_hash: z.string().regex(/^[0-9a-f]{64}$/, "the hex SHA-256 of the key"),
        location: text(1024).regex(/^[^\u0000-\u001f\u007f]*$/, "no control characters"),
      }),
    )
    .min(1)
    .max(MAX_FINDINGS_PER_REPORT),
  revoke: z.boolean().default(false),
});

/** The fields read from one line of truffleHog's `--json` output; the rest of the line is ignored. */
const sourcePlace = z.looseObject({
  file: text(4096).optional(),
  line: z.int().min(0).optional(),
  commit: text(256).optional(),
  repository: text(4096).optional(),
  link: text(4096).optional(),
});
export const trufflehogLineSchema = z.looseObject({
  DetectorName: text(256).optional(),
  Raw: text(65_536),
  SourceMetadata: z.looseObject({ Data: z.record(z.string(), sourcePlace).optional() }).nullish(),
});
