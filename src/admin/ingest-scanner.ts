/**
 * POST /admin/v1/leaks/scanner: the built-in scanner's `--report` (hashes and locations, never a key);
 * recorded, or revoked with `revoke: true`.
 */
import { readJsonBody, validate } from "../http/json-body";
import { sha256Hex } from "../keys/hash";
import { countResults } from "../leaks/ingest";
import { processLeakReports } from "../leaks/process";
import { safeText } from "../leaks/redact";
import { MAX_REPORT_BYTES, scannerReportSchema } from "../leaks/schemas";
import { adminJson, type AdminContext } from "./context";
import { adminLeakContext, limitIngest } from "./leak-ingest";
import { clock } from "../util/clock";

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
  const processed = await processLeakReports(adminLeakContext(c, "scanner", body.revoke, now), reports);
  const results = processed.map((r, index) => ({ index, status: r.outcome, key_id: r.key_id, duplicate: r.duplicate }));
  return adminJson(c, { results, counts: countResults(results) });
}
