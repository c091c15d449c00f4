/**
 * POST /admin/v1/leaks/trufflehog: truffleHog's JSON lines (application/x-ndjson), validated whole, then
 * ingested like a gitleaks report: the live keys in it are revoked, one result per line.
 */
import { ProblemError } from "../http/problem";
import { decodeUtf8, invalidField, parseJsonStrict, readBoundedBytes } from "../http/json-body";
import { ingestFindings, type Finding } from "../leaks/ingest";
import { MAX_FINDINGS_PER_REPORT, MAX_REPORT_BYTES, trufflehogLineSchema } from "../leaks/schemas";
import { adminConfig, adminJson, type AdminContext } from "./context";
import { adminLeakContext, limitIngest } from "./leak-ingest";
import { clock } from "../util/clock";

/** Where a truffleHog result was found: a link, or file:line in a repository at a commit. */
function trufflehogLocation(data: Record<string, { file?: string; line?: number; commit?: string; repository?: string; link?: string }> | undefined) {
  const [kind, place] = Object.entries(data ?? {})[0] ?? ["unknown", {}];
  if (place.link) return { id: place.link, location: place.link };
  const where = `${place.repository ? `${place.repository} ` : ""}${place.file ?? `(${kind})`}:${place.line ?? 0}`;
  return { id: `${place.commit ?? ""}:${where}`, location: `${where}${place.commit ? ` @ ${place.commit.slice(0, 12)}` : ""}` };
}

export async function ingestTrufflehog(c: AdminContext): Promise<Response> {
  const now = clock.now();
  limitIngest(c, now);
  if (!/^application\/(x-ndjson|jsonl|json-lines)\s*(;|$)/i.test(c.req.header("Content-Type") ?? "")) throw new ProblemError("unsupported_media_type");
  const lines = decodeUtf8(await readBoundedBytes(c.req.raw, MAX_REPORT_BYTES))
    .split("\n")
    .map((line, n) => ({ line: line.trim(), n }))
    .filter(({ line }) => line !== "");
  if (lines.length > MAX_FINDINGS_PER_REPORT) throw invalidField("", `at most ${MAX_FINDINGS_PER_REPORT} results per report`);
  const findings: Finding[] = lines.map(({ line, n }) => {
    let value: unknown;
    try {
      value = parseJsonStrict(line);
    } catch {
      throw invalidField(`line ${n + 1}`, "not a JSON object");
    }
    const result = trufflehogLineSchema.safeParse(value);
    if (!result.success) {
      const errors = result.error.issues.map((i) => ({ path: [`line ${n + 1}`, ...i.path].join("."), message: i.message }));
      throw new ProblemError("invalid_request", { extra: { errors } });
    }
    const r = result.data;
    const { id, location } = trufflehogLocation(r.SourceMetadata?.Data);
    return { secret: r.Raw.trim(), id: `${r.DetectorName ?? ""}:${id}`, location };
  });
  const { vendor } = adminConfig(c);
  return adminJson(c, await ingestFindings(adminLeakContext(c, "trufflehog", true, now), vendor, findings));
}
