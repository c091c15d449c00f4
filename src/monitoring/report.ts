/**
 * The API Key Security Implementation Report: every figure read from D1 and the live configuration at
 * the time it is asked for. Rollup figures are as of each isolate's last flush (USAGE_ROLLUP_FLUSH_MS).
 */
import { loadConfig } from "../config";
import { RANDOM_LENGTH, CHECKSUM_LENGTH } from "../keys/format";
import { listAlerts, toAlertObject } from "./alerts";
import type { MonitoringConfig } from "./config";
import { DAY_MS, daysBetween, HOUR_MS, hourStart, isoTime, utcDay } from "../util/time";
export { renderMarkdown } from "./report-markdown";

export const REPORT_TITLE = "API Key Security Implementation Report";
/** The leak statistics cover reports received in this many days. */
export const LEAK_WINDOW_DAYS = 30;
/** Keys expiring within this many days are listed (and their owners are notified by the scheduled job). */
export const EXPIRY_NOTICE_DAYS = 30;
/** Sources that mean "found in public": GitHub secret scanning covers public repositories, gists and more. */
export const PUBLIC_SOURCES = ["github"] as const;
/** At most this many open alerts and expiring keys are listed (the counts are always complete). */
export const REPORT_LIST_LIMIT = 50;

export type ControlStatus = "Active" | "Partial" | "Available" | "Not configured";

export interface Control {
  control: string;
  implementation: string;
  status: ControlStatus;
  evidence: string;
}

/** The median of a list of numbers (the mean of the middle two for an even count); null if empty. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

const ACTIVE_CONDITION = "status = 'active' AND expires_at > ?1 AND (grace_until IS NULL OR grace_until > ?1)";

/** Gathers the report's data. */
export async function buildReport(env: Cloudflare.Env, monitoring: MonitoringConfig, now: number) {
  const db = env.DB;
  const loaded = loadConfig(env);
  const config = loaded.ok ? loaded.config : null;
  const hour = hourStart(now);
  const today = utcDay(now);
  const weekDays = daysBetween(utcDay(now - 6 * DAY_MS), today);
  const leakSince = now - LEAK_WINDOW_DAYS * DAY_MS;
  const githubUrl = String((env as unknown as Record<string, unknown>).GITHUB_SECRET_SCANNING_KEYS_URL ?? "").trim();

  const [keys, last24h, perDay, leakRows, scanner, expiring, rotations, badHashes] = await Promise.all([
    db
      .prepare(
        `SELECT
           SUM(CASE WHEN ${ACTIVE_CONDITION} THEN 1 ELSE 0 END) AS active,
           SUM(CASE WHEN status = 'disabled' THEN 1 ELSE 0 END) AS disabled,
           SUM(CASE WHEN status = 'revoked' THEN 1 ELSE 0 END) AS revoked,
           SUM(CASE WHEN status = 'active' AND NOT (expires_at > ?1 AND (grace_until IS NULL OR grace_until > ?1)) THEN 1 ELSE 0 END) AS expired,
           SUM(CASE WHEN ${ACTIVE_CONDITION} AND (ip_allowlist != '[]' OR allowed_routes != '[]' OR allowed_origins != '[]') THEN 1 ELSE 0 END) AS restricted,
           SUM(CASE WHEN ${ACTIVE_CONDITION} AND EXISTS (SELECT 1 FROM json_each(scopes) WHERE value = 'admin') THEN 1 ELSE 0 END) AS admin_scope
         FROM api_keys`,
      )
      .bind(now)
      .first<Record<"active" | "disabled" | "revoked" | "expired" | "restricted" | "admin_scope", number | null>>(),
    db
      .prepare(
        `SELECT SUM(count) AS total, SUM(CASE WHEN outcome = 'valid' THEN count ELSE 0 END) AS valid
         FROM usage_hourly WHERE hour > ?1`,
      )
      .bind(hour - 24 * HOUR_MS)
      .first<{ total: number | null; valid: number | null }>(),
    db
      .prepare(
        `SELECT day, SUM(count) AS total, SUM(CASE WHEN outcome = 'valid' THEN count ELSE 0 END) AS valid
         FROM usage_daily WHERE day >= ?1 AND day <= ?2 GROUP BY day`,
      )
      .bind(weekDays[0], today)
      .all<{ day: string; total: number; valid: number }>(),
    db
      .prepare(`SELECT key_id, source, outcome, reported_at, revoked_at FROM leak_events WHERE reported_at >= ?1 AND source != 'scanner'`)
      .bind(leakSince)
      .all<{ key_id: string | null; source: string; outcome: string; reported_at: number; revoked_at: number | null }>(),
    db
      .prepare(
        `SELECT COUNT(DISTINCT key_id) AS keys, COUNT(*) AS reports FROM leak_events
         WHERE source = 'scanner' AND reported_at >= ?1 AND outcome IN ('recorded', 'revoked')`,
      )
      .bind(leakSince)
      .first<{ keys: number; reports: number }>(),
    db
      .prepare(
        `SELECT id, owner_id, name, expires_at FROM api_keys
         WHERE ${ACTIVE_CONDITION} AND expires_at <= ?2 ORDER BY expires_at, id`,
      )
      .bind(now, now + EXPIRY_NOTICE_DAYS * DAY_MS)
      .all<{ id: string; owner_id: string; name: string; expires_at: number }>(),
    // A rotation writes two audit rows; the predecessor's is the one that records `rotated_to`.
    db
      .prepare(`SELECT COUNT(*) AS n FROM audit_log WHERE action = 'rotate' AND at >= ?1 AND changes LIKE '%"rotated_to"%'`)
      .bind(now - 90 * DAY_MS)
      .first<{ n: number }>(),
    db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE length(key_hash) != 64 OR key_hash GLOB '*[^0-9a-f]*'").first<{ n: number }>(),
  ]);
  const alertRows = await listAlerts(db, { openOnly: true, limit: REPORT_LIST_LIMIT }, now, monitoring.dedupeMs);
  const openAlerts = await db
    .prepare("SELECT COUNT(*) AS n FROM alerts WHERE last_seen_at > ?1")
    .bind(now - monitoring.dedupeMs)
    .first<{ n: number }>();

  const leaks = leakRows.results;
  const publicReports = leaks.filter((l) => (PUBLIC_SOURCES as readonly string[]).includes(l.source));
  const revokeTimes = leaks.filter((l) => l.key_id !== null && l.revoked_at !== null).map((l) => l.revoked_at! - l.reported_at);
  const githubVerified = leaks.some((l) => l.source === "github") || (await anyGithubEvent(db));
  const byDay = new Map(perDay.results.map((r) => [r.day, r]));
  const active = keys?.active ?? 0;

  const leakStats = {
    window_days: LEAK_WINDOW_DAYS,
    keys_detected_in_public_sources: new Set(publicReports.filter((l) => l.key_id !== null).map((l) => l.key_id)).size,
    public_reports: publicReports.length,
    public_reports_without_matching_key: publicReports.filter((l) => l.key_id === null).length,
    revocations_after_report: revokeTimes.length,
    mean_report_to_revocation_ms: mean(revokeTimes),
    median_report_to_revocation_ms: median(revokeTimes),
    keys_found_by_scanner_before_commit: scanner?.keys ?? 0,
    scanner_reports: scanner?.reports ?? 0,
  };

  const leakStatus: ControlStatus = githubUrl === "" ? "Not configured" : githubVerified ? "Active" : "Partial";
  const entropyBits = Math.floor(RANDOM_LENGTH * Math.log2(62));
  const vendor = config?.vendor ?? "";
  const controls: Control[] = [
    {
      control: "Key entropy",
      implementation: `${RANDOM_LENGTH} base62 characters from crypto.getRandomValues, without modulo bias (${entropyBits} bits)`,
      status: entropyBits >= 128 ? "Active" : "Partial",
      evidence: `${entropyBits} bits per key`,
    },
    {
      control: "Key format",
      implementation: `${vendor === "" ? "" : `${vendor}_`}{sk|pk}_{live|test}_ prefix; ${CHECKSUM_LENGTH}-character CRC32 checksum checked before any lookup`,
      status: vendor === "" ? "Partial" : "Active",
      evidence: vendor === "" ? "no KEY_VENDOR_PREFIX: bare sk_live_ is shared with other vendors' keys" : `vendor prefix "${vendor}_"`,
    },
    {
      control: "Storage",
      implementation: "SHA-256 of each key in D1; the key is shown once, at creation, and never stored or logged",
      status: (badHashes?.n ?? 0) === 0 ? "Active" : "Partial",
      evidence: `${badHashes?.n ?? 0} stored keys without a well-formed SHA-256`,
    },
    {
      control: "Scoping",
      implementation: "scopes checked against the route policy; optional IP allowlists, allowed routes and browser origins per key",
      status: "Active",
      evidence: `${keys?.restricted ?? 0} of ${active} active keys restricted by network, route or origin; ${keys?.admin_scope ?? 0} hold the admin scope`,
    },
    {
      control: "Rotation",
      implementation: "rotation mints a successor; the old key works until its grace end, limits shared across the lineage",
      status: (rotations?.n ?? 0) > 0 ? "Active" : "Available",
      evidence: `${rotations?.n ?? 0} rotations in the last 90 days`,
    },
    {
      control: "Expiration",
      implementation: `every key expires; maximum lifetime ${config ? `${config.maxLifetimeDays} days` : "unknown (MAX_KEY_LIFETIME_DAYS is malformed)"}; owners notified ${EXPIRY_NOTICE_DAYS} days ahead`,
      status: config ? "Active" : "Partial",
      evidence: `${expiring.results.length} active keys expire in the next ${EXPIRY_NOTICE_DAYS} days`,
    },
    {
      control: "Leak detection",
      implementation: "GitHub secret scanning partner endpoint; built-in scanner for commits (npm run scan)",
      status: leakStatus,
      evidence:
        githubUrl === ""
          ? "GITHUB_SECRET_SCANNING_KEYS_URL is not set"
          : githubVerified
            ? `${leakStats.public_reports} GitHub reports in the last ${LEAK_WINDOW_DAYS} days`
            : "endpoint configured; no verified GitHub alert received yet",
    },
    {
      control: "Auto-revocation",
      implementation: "a key reported by GitHub is revoked at once, everywhere, and its owner notified",
      status: leakStatus,
      evidence: `${leakStats.revocations_after_report} revocations after a report in the last ${LEAK_WINDOW_DAYS} days`,
    },
    {
      control: "Anomaly monitoring",
      implementation: `alerts on new networks, traffic over ${monitoring.trafficMultiple}x the key's baseline, refusal bursts, use of revoked or expired keys`,
      status: "Active",
      evidence: `${openAlerts?.n ?? 0} open alerts`,
    },
  ];

  return {
    title: REPORT_TITLE,
    platform: monitoring.platformName,
    generated_at: isoTime(now),
    active_keys: active,
    keys_by_status: { active, disabled: keys?.disabled ?? 0, revoked: keys?.revoked ?? 0, expired: keys?.expired ?? 0 },
    validations: {
      last_24h: { total: last24h?.total ?? 0, valid: last24h?.valid ?? 0 },
      per_day: weekDays.map((day) => ({ day, total: byDay.get(day)?.total ?? 0, valid: byDay.get(day)?.valid ?? 0 })),
    },
    controls,
    leaks: leakStats,
    open_alerts: {
      count: openAlerts?.n ?? 0,
      alerts: alertRows.map((r) => toAlertObject(r, now, monitoring.dedupeMs)),
    },
    expiring_keys: {
      within_days: EXPIRY_NOTICE_DAYS,
      count: expiring.results.length,
      keys: expiring.results.slice(0, REPORT_LIST_LIMIT).map((k) => ({ ...k, expires_at: isoTime(k.expires_at) })),
    },
  };
}

export type SecurityReport = Awaited<ReturnType<typeof buildReport>>;

/** Whether any GitHub report ever reached the endpoint (a verified alert, matching a key or not). */
async function anyGithubEvent(db: D1Database): Promise<boolean> {
  return (await db.prepare("SELECT 1 AS x FROM leak_events WHERE source = 'github' LIMIT 1").first()) !== null;
}
