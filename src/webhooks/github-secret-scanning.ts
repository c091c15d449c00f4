/**
 * POST /webhooks/github/secret-scanning — GitHub's secret scanning partner program. GitHub posts a signed
 * JSON array of `{token, type, url, source}`; each token that is a live key or admin credential of this
 * authorizer is revoked at once (reason `leaked`), recorded as a leak event and reported to its owner (a
 * credential's creator). The answer is GitHub's
 * feedback format, `[{token_hash, token_type, label}]`: the hash of the token GitHub sent, never a token.
 *
 * Off unless GITHUB_SECRET_SCANNING_KEYS_URL is set. Order of checks: configured (404) → signature headers
 * (401) → body bound (413) → signing key (503 when none can be had, so GitHub retries; 401 for an id GitHub
 * does not list) → signature over the raw bytes (401) → shape (400) → reports.
 */
import type { Context } from "hono";
import type { AppEnv } from "../http/context";
import { loadConfig } from "../config";
import { sha256Hex } from "../keys/hash";
import { configUnavailable, ProblemError } from "../http/problem";
import { decodeUtf8, invalidField, parseJsonStrict, readBoundedBytes } from "../http/json-body";
import { githubKey, verifyGithubSignature } from "./github-signature";
import { reportHashes } from "../leaks/ingest";
import type { LeakReport } from "../leaks/process";
import { safeText } from "../leaks/redact";
import { requestScope } from "../http/request-scope";
import type { WebhookName } from "../operations/actor";
import { ingestLeakReports } from "../operations/ingest-leak-reports";
import { clock } from "../util/clock";

/** The largest alert body accepted; GitHub's batches are far smaller. */
const GITHUB_ALERT_MAX_BYTES = 1024 * 1024;
/** The most tokens one alert may carry, so a batch is always answered well inside GitHub's 30 s. */
const GITHUB_ALERT_MAX_TOKENS = 1000;
/** The audit actor of revocations made on GitHub's report. */
const GITHUB_ACTOR: WebhookName = "github-secret-scanning";

interface GithubMatch {
  token: string;
  type: string;
  url: string | null;
  source: string | null;
}

/** The alert's matches; unknown fields are ignored, wrong types of the fields used are refused (400). */
function parseGithubAlert(value: unknown): GithubMatch[] {
  if (!Array.isArray(value)) throw invalidField("", "expected a JSON array of {token, type, url, source}");
  if (value.length > GITHUB_ALERT_MAX_TOKENS)
    throw invalidField("", `at most ${GITHUB_ALERT_MAX_TOKENS} tokens per alert`);
  return value.map((item, i) => {
    const m = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
    const optional = (v: unknown) => (v === undefined || v === null ? null : typeof v === "string" ? v : undefined);
    const url = optional(m.url);
    const source = optional(m.source);
    if (
      typeof m.token !== "string" ||
      m.token.length === 0 ||
      m.token.length > 4096 ||
      typeof m.type !== "string" ||
      m.type.length > 256 ||
      url === undefined ||
      source === undefined
    ) {
      throw invalidField(String(i), "each match needs a string token and type; url and source are strings if present");
    }
    return { token: m.token, type: m.type, url, source };
  });
}

export async function handleGithubAlert(c: Context<AppEnv>): Promise<Response> {
  const reportedAt = clock.now();
  const keysUrl = (c.env.GITHUB_SECRET_SCANNING_KEYS_URL ?? "").trim();
  if (keysUrl === "") throw new ProblemError("not_found");
  const keyId = c.req.header("Github-Public-Key-Identifier") ?? "";
  const signature = c.req.header("Github-Public-Key-Signature") ?? "";
  if (keyId === "" || signature === "" || keyId.length > 256 || signature.length > 512)
    throw new ProblemError("invalid_signature");
  const body = await readBoundedBytes(c.req.raw, GITHUB_ALERT_MAX_BYTES);

  const key = await githubKey(keysUrl, keyId);
  if (key === "unavailable") throw new ProblemError("signing_keys_unavailable", { retryAfterSeconds: 30 });
  if (key === "unknown" || !(await verifyGithubSignature(key, signature, body)))
    throw new ProblemError("invalid_signature");

  const matches = parseGithubAlert(parseJsonStrict(decodeUtf8(body)));
  const loaded = loadConfig(c.env);
  if (!loaded.ok) throw configUnavailable();
  const vendor = loaded.config.vendor;

  const tokenHashes = await Promise.all(matches.map((m) => sha256Hex(m.token)));
  const reports: LeakReport[] = await Promise.all(
    matches.map(async (m) => ({
      ...(await reportHashes(m.token, vendor)),
      // The same token at the same place is the same report; the fingerprint is not the key's hash.
      fingerprint: `github:${await sha256Hex(`github\n${m.token}\n${m.url ?? ""}\n${m.source ?? ""}`)}`,
      location: safeText(m.url ?? m.source ?? "github"),
    })),
  );
  const ctx = { ...requestScope(c), actor: { kind: "webhook", name: GITHUB_ACTOR } as const };
  const results = await ingestLeakReports(ctx, { source: "github", revoke: true, reportedAt, reports });
  const feedback = matches.map((m, i) => ({
    token_hash: tokenHashes[i]!,
    token_type: m.type,
    label: results[i]!.outcome === "no_match" ? "false_positive" : "true_positive",
  }));
  return c.json(feedback, 200, { "Cache-Control": "no-store" });
}
