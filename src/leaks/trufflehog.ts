/**
 * truffleHog: its custom-detector verification call, and its JSON-lines results.
 *
 * POST /webhooks/trufflehog/verify answers truffleHog's call for the detector `npm run trufflehog-config`
 * writes (body `{"<detector>": {"<regex name>": ["<match>", …]}}`): 200 when a match is a live key of this
 * authorizer, 403 otherwise, and nothing more. It is off (404) until TRUFFLEHOG_VERIFY_TOKEN is set, needs
 * that token as `Authorization: Bearer`, and is rate-limited per client. A key verified live was found in
 * someone's scan: a leak event is recorded and the owner told; it is revoked too only when
 * TRUFFLEHOG_REVOKE_ON_VERIFY is "true" (off by default: operators also scan their own vaults and CI).
 */
import type { Context } from "hono";
import type { AppEnv } from "../app";
import type { AdminContext } from "../admin/context";
import { adminConfig, adminJson } from "../admin/context";
import { loadConfig } from "../config";
import { parseKey } from "../keys/format";
import { sha256Hex } from "../keys/hash";
import { findKeyByHash } from "../keys/store";
import { ProblemError } from "../http/problem";
import { clock } from "../util/clock";
import { DAY_MS } from "../util/time";
import { secretsEqual } from "../util/secrets";
import { decodeUtf8, invalidField, parseJsonStrict, readBoundedBytes } from "../http/body";
import { ingestFindings, type Finding } from "./ingest";
import { processLeakReports } from "./process";
import { takeLeakRouteSlot } from "./route-limit";
import { MAX_FINDINGS_PER_REPORT, MAX_REPORT_BYTES, trufflehogLineSchema } from "./schemas";

/** A verification call carries the matches of one chunk: small. */
export const VERIFY_MAX_BYTES = 64 * 1024;
/** Candidate strings checked per call. */
export const VERIFY_MAX_MATCHES = 100;

/** Every string in the call's `{detector: {regex name: [strings]}}` body, or 400. */
function verifyCandidates(body: unknown): string[] {
  const fail = () => invalidField("", 'expected {"<detector>": {"<regex name>": ["<match>", …]}}');
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw fail();
  const out = new Set<string>();
  for (const byRegex of Object.values(body)) {
    if (typeof byRegex !== "object" || byRegex === null || Array.isArray(byRegex)) throw fail();
    for (const matches of Object.values(byRegex)) {
      const list = typeof matches === "string" ? [matches] : matches;
      if (!Array.isArray(list) || !list.every((m) => typeof m === "string")) throw fail();
      for (const m of list as string[]) out.add(m.trim());
    }
  }
  if (out.size > VERIFY_MAX_MATCHES) throw invalidField("", `at most ${VERIFY_MAX_MATCHES} matches per call`);
  return [...out];
}

export async function handleTrufflehogVerify(c: Context<AppEnv>): Promise<Response> {
  const now = clock.now();
  const token = c.env.TRUFFLEHOG_VERIFY_TOKEN ?? "";
  if (token === "") throw new ProblemError("not_found");
  const retryAt = takeLeakRouteSlot("verify", c.req.header("CF-Connecting-IP") ?? "", now);
  if (retryAt !== null) throw new ProblemError("rate_limited", { retryAfterSeconds: Math.max(1, Math.ceil((retryAt - now) / 1000)) });
  const presented = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(c.req.header("Authorization") ?? "")?.[1] ?? "";
  if (!(await secretsEqual(presented, token))) throw new ProblemError("webhook_unauthorized");
  const candidates = verifyCandidates(parseJsonStrict(decodeUtf8(await readBoundedBytes(c.req.raw, VERIFY_MAX_BYTES))));
  const loaded = loadConfig(c.env);
  if (!loaded.ok) throw new ProblemError("authorizer_unavailable", { retryAfterSeconds: 30 });

  const live: string[] = [];
  for (const candidate of candidates) {
    if (!parseKey(candidate, loaded.config.vendor)) continue;
    const keyHash = await sha256Hex(candidate);
    const record = await findKeyByHash(c.env.DB, keyHash);
    const isLive = record?.status === "active" && record.expires_at > now && (record.grace_until === null || record.grace_until > now);
    if (isLive) live.push(candidate);
  }
  if (live.length === 0) return new Response(null, { status: 403, headers: { "Cache-Control": "no-store" } });

  const day = Math.floor(now / DAY_MS);
  await processLeakReports(
    {
      env: c.env,
      waitUntil: (p) => c.executionCtx.waitUntil(p),
      source: "trufflehog",
      actor: "trufflehog-verify",
      requestId: c.get("requestId"),
      revoke: c.env.TRUFFLEHOG_REVOKE_ON_VERIFY === "true",
      reportedAt: now,
    },
    // The call says nothing about where the key was found, so one event per key per UTC day.
    await Promise.all(
      live.map(async (key) => ({
        keyHash: await sha256Hex(key),
        fingerprint: `trufflehog:verify:${await sha256Hex(`trufflehog-verify\n${key}\n${day}`)}`,
        location: "truffleHog verification call",
      })),
    ),
  );
  return new Response(null, { status: 200, headers: { "Cache-Control": "no-store" } });
}

/** Where a truffleHog result was found: a link, or file:line in a repository at a commit. */
function trufflehogLocation(data: Record<string, { file?: string; line?: number; commit?: string; repository?: string; link?: string }> | undefined) {
  const [kind, place] = Object.entries(data ?? {})[0] ?? ["unknown", {}];
  if (place.link) return { id: place.link, location: place.link };
  const where = `${place.repository ? `${place.repository} ` : ""}${place.file ?? `(${kind})`}:${place.line ?? 0}`;
  return { id: `${place.commit ?? ""}:${where}`, location: `${where}${place.commit ? ` @ ${place.commit.slice(0, 12)}` : ""}` };
}

/** POST /admin/v1/leaks/trufflehog: truffleHog's JSON lines, validated whole, then ingested like gitleaks. */
export async function ingestTrufflehog(c: AdminContext): Promise<Response> {
  const now = clock.now();
  const retryAt = takeLeakRouteSlot("ingest", `${c.get("actor")}|${c.req.header("CF-Connecting-IP") ?? ""}`, now);
  if (retryAt !== null) throw new ProblemError("rate_limited", { retryAfterSeconds: Math.max(1, Math.ceil((retryAt - now) / 1000)) });
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
  return adminJson(
    c,
    await ingestFindings(
      { env: c.env, waitUntil: (p) => c.executionCtx.waitUntil(p), source: "trufflehog", actor: c.get("actor"), requestId: c.get("requestId"), revoke: true, reportedAt: now },
      vendor,
      findings,
    ),
  );
}
