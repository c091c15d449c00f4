/**
 * POST /webhooks/trufflehog/verify: truffleHog's custom-detector verification call, for the detector
 * `npm run trufflehog-config` writes (body `{"<detector>": {"<regex name>": ["<match>", …]}}`). It answers
 * 200 when a match is a live key or admin credential of this authorizer, 403 otherwise, and nothing more. It is off (404) until
 * TRUFFLEHOG_VERIFY_TOKEN is set, needs that token as `Authorization: Bearer`, and is rate-limited per
 * client. A key (or credential) verified live was found in someone's scan: a leak event is recorded and the
 * owner (a credential's creator) told; it
 * is revoked too only when TRUFFLEHOG_REVOKE_ON_VERIFY is "true" (off by default: operators also scan their
 * own vaults and CI). truffleHog's JSON-lines results are an admin route: src/admin/ingest-trufflehog.ts.
 */
import type { Context } from "hono";
import type { AppEnv } from "../http/context";
import { loadConfig } from "../config";
import { sha256Hex } from "../keys/hash";
import { isLive } from "../keys/key-record";
import { credentialIsLive } from "../credentials/credential-record";
import { reportHashes } from "../leaks/ingest";
import type { LeakReport } from "../leaks/process";
import { findLeakedSubjects } from "../leaks/subjects";
import { presentedBearer } from "../http/authorization";
import { configUnavailable, ProblemError } from "../http/problem";
import { secretsEqual } from "../util/secrets";
import { decodeUtf8, invalidField, parseJsonStrict, readBoundedBytes } from "../http/json-body";
import { limitLeakRoute } from "../leaks/route-limit";
import { requestScope } from "../http/request-scope";
import { ingestLeakReports } from "../operations/ingest-leak-reports";
import { clock } from "../util/clock";
import { DAY_MS } from "../util/time";

/** A verification call carries the matches of one chunk: small. */
const VERIFY_MAX_BYTES = 64 * 1024;
/** Candidate strings checked per call. */
const VERIFY_MAX_MATCHES = 100;

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
  limitLeakRoute("verify", c.req.header("CF-Connecting-IP") ?? "", now);
  if (!(await secretsEqual(presentedBearer(c.req.header("Authorization")), token)))
    throw new ProblemError("webhook_unauthorized");
  const candidates = verifyCandidates(parseJsonStrict(decodeUtf8(await readBoundedBytes(c.req.raw, VERIFY_MAX_BYTES))));
  const loaded = loadConfig(c.env);
  if (!loaded.ok) throw configUnavailable();

  const parsed = await Promise.all(
    candidates.map(async (candidate) => ({ candidate, hashes: await reportHashes(candidate, loaded.config.vendor) })),
  );
  const found = parsed.filter((p) => p.hashes.keyHash !== null || p.hashes.credentialHash !== null);
  const subjects = await findLeakedSubjects(
    c.env.DB,
    found.map((p) => p.hashes),
  );
  const live = found.filter((_, i) => {
    const subject = subjects[i];
    if (!subject) return false;
    return subject.kind === "key" ? isLive(subject.record, now) : credentialIsLive(subject.record, now);
  });
  if (live.length === 0) return new Response(null, { status: 403, headers: { "Cache-Control": "no-store" } });

  const day = Math.floor(now / DAY_MS);
  // The call says nothing about where the key was found, so one event per key per UTC day.
  const reports: LeakReport[] = await Promise.all(
    live.map(async ({ candidate: key, hashes }) => ({
      ...hashes,
      fingerprint: `trufflehog:verify:${await sha256Hex(`trufflehog-verify\n${key}\n${day}`)}`,
      location: "truffleHog verification call",
    })),
  );
  const ctx = { ...requestScope(c), actor: { kind: "webhook", name: "trufflehog-verify" } as const };
  await ingestLeakReports(ctx, {
    source: "trufflehog",
    revoke: c.env.TRUFFLEHOG_REVOKE_ON_VERIFY === "true",
    reportedAt: now,
    reports,
  });
  return new Response(null, { status: 200, headers: { "Cache-Control": "no-store" } });
}
