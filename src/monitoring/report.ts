/**
 * The API Key Security Implementation Report: every figure read from D1 and the live configuration at
 * the time it is asked for. Rollup figures are as of each isolate's last flush (USAGE_ROLLUP_FLUSH_MS).
 */
import { loadConfig, type Config } from "../config";
import { RANDOM_LENGTH, CHECKSUM_LENGTH } from "../keys/format";
import { countKeys, countMalformedHashes, listKeysExpiringBy, type ExpiringKey, type KeyCounts } from "../keys/store";
import { findAlerts, toAlertObject, type AlertRow } from "./alerts";
import type { MonitoringConfig } from "./config";
import { DAY_MS, daysBetween, HOUR_MS, utcDay } from "../util/time";
import { readConsumerFigures, ROTATION_DUE_DAYS } from "./report-consumers";
import { readSecretManagerFigures, secretManagerControl } from "./report-secret-managers";
import type { Control, ControlStatus, SecurityReport } from "./report-schema";

const REPORT_TITLE = "API Key Security Implementation Report";
/** The leak statistics cover reports received in this many days. */
const LEAK_WINDOW_DAYS = 30;
/** Keys expiring within this many days are listed (and their owners are notified by the scheduled job). */
export const EXPIRY_NOTICE_DAYS = 30;
/** Sources that mean "found in public": GitHub secret scanning covers public repositories, gists and more. */
const PUBLIC_SOURCES = ["github"] as const;
/** At most this many open alerts and expiring keys are listed (the counts are always complete). */
const REPORT_LIST_LIMIT = 50;

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

/** A leak report of the window, as the report reads it. */
interface LeakRow {
  key_id: string | null;
  source: string;
  outcome: string;
  reported_at: number;
  revoked_at: number | null;
}

/** Everything the report reads from D1, at `now`. */
interface ReportData {
  keys: KeyCounts;
  last24h: { total: number; valid: number };
  perDay: Map<string, { total: number; valid: number }>;
  /** Reports from outside (not the built-in scanner) in the last LEAK_WINDOW_DAYS. */
  leaks: LeakRow[];
  scanner: { keys: number; reports: number };
  /** Whether a verified GitHub report ever arrived (in the window or before). */
  githubVerified: boolean;
  expiring: ExpiringKey[];
  rotations: number;
  malformedHashes: number;
  openAlerts: { count: number; rows: AlertRow[] };
}

/** The report's queries: key figures through keys/store.ts, the rest from the monitoring, leak and audit tables. */
async function readReportData(
  db: D1Database,
  monitoring: MonitoringConfig,
  now: number,
  weekDays: readonly string[],
): Promise<ReportData> {
  const hour = now - (now % HOUR_MS);
  const leakSince = now - LEAK_WINDOW_DAYS * DAY_MS;
  const [keys, last24h, perDay, leakRows, scanner, expiring, rotations, malformedHashes, alertRows, openAlerts] =
    await Promise.all([
      countKeys(db, now),
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
        .bind(weekDays[0], weekDays[weekDays.length - 1])
        .all<{ day: string; total: number; valid: number }>(),
      db
        .prepare(
          // The report's leak statistics are about keys: a leaked admin credential's events are left out.
          `SELECT key_id, source, outcome, reported_at, revoked_at FROM leak_events
         WHERE reported_at >= ?1 AND source != 'scanner' AND credential_id IS NULL`,
        )
        .bind(leakSince)
        .all<LeakRow>(),
      db
        .prepare(
          `SELECT COUNT(DISTINCT key_id) AS keys, COUNT(*) AS reports FROM leak_events
         WHERE source = 'scanner' AND reported_at >= ?1 AND outcome IN ('recorded', 'revoked') AND credential_id IS NULL`,
        )
        .bind(leakSince)
        .first<{ keys: number; reports: number }>(),
      listKeysExpiringBy(db, now, now + EXPIRY_NOTICE_DAYS * DAY_MS),
      // A rotation writes two audit rows; the predecessor's is the one that records `rotated_to`.
      db
        .prepare(
          `SELECT COUNT(*) AS n FROM audit_log WHERE action = 'rotate' AND at >= ?1 AND changes LIKE '%"rotated_to"%'`,
        )
        .bind(now - ROTATION_DUE_DAYS * DAY_MS)
        .first<{ n: number }>(),
      countMalformedHashes(db),
      findAlerts(db, { openOnly: true, limit: REPORT_LIST_LIMIT }, now, monitoring.dedupeMs),
      db
        .prepare("SELECT COUNT(*) AS n FROM alerts WHERE last_seen_at > ?1")
        .bind(now - monitoring.dedupeMs)
        .first<{ n: number }>(),
    ]);
  const leaks = leakRows.results;
  return {
    keys,
    last24h: { total: last24h?.total ?? 0, valid: last24h?.valid ?? 0 },
    perDay: new Map(perDay.results.map((r) => [r.day, r])),
    leaks,
    scanner: { keys: scanner?.keys ?? 0, reports: scanner?.reports ?? 0 },
    githubVerified: leaks.some((l) => l.source === "github") || (await anyGithubEvent(db)),
    expiring,
    rotations: rotations?.n ?? 0,
    malformedHashes,
    openAlerts: { count: openAlerts?.n ?? 0, rows: alertRows },
  };
}

/** The leak statistics of the window. Pure. */
function leakStatistics(leaks: readonly LeakRow[], scanner: ReportData["scanner"]) {
  const publicReports = leaks.filter((l) => (PUBLIC_SOURCES as readonly string[]).includes(l.source));
  const revokeTimes = leaks
    .filter((l) => l.key_id !== null && l.revoked_at !== null)
    .map((l) => l.revoked_at! - l.reported_at);
  return {
    window_days: LEAK_WINDOW_DAYS,
    keys_detected_in_public_sources: new Set(publicReports.filter((l) => l.key_id !== null).map((l) => l.key_id)).size,
    public_reports: publicReports.length,
    public_reports_without_matching_key: publicReports.filter((l) => l.key_id === null).length,
    revocations_after_report: revokeTimes.length,
    mean_report_to_revocation_ms: mean(revokeTimes),
    median_report_to_revocation_ms: median(revokeTimes),
    keys_found_by_scanner_before_commit: scanner.keys,
    scanner_reports: scanner.reports,
  };
}

/** What the controls are judged on, besides the data read. */
interface ControlInputs {
  data: ReportData;
  leakStats: ReturnType<typeof leakStatistics>;
  /** The deployment's settings; null when they are malformed. */
  config: Config | null;
  monitoring: MonitoringConfig;
  /** Whether GITHUB_SECRET_SCANNING_KEYS_URL is set. */
  githubConfigured: boolean;
}

/** Each security control, its status and the evidence for it. Pure: every figure comes from `inputs`. */
function securityControls({ data, leakStats, config, monitoring, githubConfigured }: ControlInputs): Control[] {
  const leakStatus: ControlStatus = !githubConfigured ? "Not configured" : data.githubVerified ? "Active" : "Partial";
  const entropyBits = Math.floor(RANDOM_LENGTH * Math.log2(62));
  const vendor = config?.vendor ?? "";
  return [
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
      evidence:
        vendor === ""
          ? "no KEY_VENDOR_PREFIX: bare sk_live_ is shared with other vendors' keys"
          : `vendor prefix "${vendor}_"`,
    },
    {
      control: "Storage",
      implementation: "SHA-256 of each key in D1; the key is shown once, at creation, and never stored or logged",
      status: data.malformedHashes === 0 ? "Active" : "Partial",
      evidence: `${data.malformedHashes} stored keys without a well-formed SHA-256`,
    },
    {
      control: "Scoping",
      implementation:
        "scopes checked against the route policy; optional IP allowlists, allowed routes and browser origins per key",
      status: "Active",
      evidence: `${data.keys.restricted} of ${data.keys.active} active keys restricted by network, route or origin; ${data.keys.admin_scope} hold the admin scope`,
    },
    {
      control: "Rotation",
      implementation:
        "rotation mints a successor; the old key works until its grace end, limits shared across the lineage",
      status: data.rotations > 0 ? "Active" : "Available",
      evidence: `${data.rotations} rotations in the last ${ROTATION_DUE_DAYS} days`,
    },
    {
      control: "Expiration",
      implementation: `every key expires; maximum lifetime ${config ? `${config.maxLifetimeDays} days` : "unknown (MAX_KEY_LIFETIME_DAYS is malformed)"}; owners notified ${EXPIRY_NOTICE_DAYS} days ahead`,
      status: config ? "Active" : "Partial",
      evidence: `${data.expiring.length} active keys expire in the next ${EXPIRY_NOTICE_DAYS} days`,
    },
    {
      control: "Leak detection",
      implementation: "GitHub secret scanning partner endpoint; built-in scanner for commits (npm run scan)",
      status: leakStatus,
      evidence: !githubConfigured
        ? "GITHUB_SECRET_SCANNING_KEYS_URL is not set"
        : data.githubVerified
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
      implementation: `alerts on new networks, traffic over ${monitoring.trafficMultiple}x the key's or the consumer's baseline, refusal bursts, use of revoked or expired keys`,
      status: "Active",
      evidence: `${data.openAlerts.count} open alerts`,
    },
  ];
}

/** The report: read, judged, then shaped into the answer of GET /admin/v1/report. */
export async function buildReport(
  env: Cloudflare.Env,
  monitoring: MonitoringConfig,
  now: number,
): Promise<SecurityReport> {
  const loaded = loadConfig(env);
  const config = loaded.ok ? loaded.config : null;
  const weekDays = daysBetween(utcDay(now - 6 * DAY_MS), utcDay(now));
  const githubConfigured =
    String((env as unknown as Record<string, unknown>).GITHUB_SECRET_SCANNING_KEYS_URL ?? "").trim() !== "";
  const [data, consumers, secretManagers] = await Promise.all([
    readReportData(env.DB, monitoring, now, weekDays),
    readConsumerFigures(env.DB, now),
    readSecretManagerFigures(env.DB, now),
  ]);
  const leakStats = leakStatistics(data.leaks, data.scanner);
  const { keys } = data;
  return {
    title: REPORT_TITLE,
    platform: monitoring.platformName,
    generated_at: new Date(now).toISOString(),
    active_keys: keys.active,
    keys_by_status: { active: keys.active, disabled: keys.disabled, revoked: keys.revoked, expired: keys.expired },
    validations: {
      last_24h: data.last24h,
      per_day: weekDays.map((day) => ({
        day,
        total: data.perDay.get(day)?.total ?? 0,
        valid: data.perDay.get(day)?.valid ?? 0,
      })),
    },
    consumers,
    controls: [
      ...securityControls({ data, leakStats, config, monitoring, githubConfigured }),
      secretManagerControl(secretManagers),
    ],
    leaks: leakStats,
    open_alerts: {
      count: data.openAlerts.count,
      alerts: data.openAlerts.rows.map((r) => toAlertObject(r, now, monitoring.dedupeMs)),
    },
    expiring_keys: {
      within_days: EXPIRY_NOTICE_DAYS,
      count: data.expiring.length,
      keys: data.expiring
        .slice(0, REPORT_LIST_LIMIT)
        .map((k) => ({ ...k, expires_at: new Date(k.expires_at).toISOString() })),
    },
  };
}

/** Whether any GitHub report ever reached the endpoint (a verified alert, matching a key or not). */
async function anyGithubEvent(db: D1Database): Promise<boolean> {
  return (await db.prepare("SELECT 1 AS x FROM leak_events WHERE source = 'github' LIMIT 1").first()) !== null;
}
