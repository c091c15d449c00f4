/**
 * Monitoring settings from `[vars]`: alert thresholds, retention and the platform's name in the report.
 * Empty means the default. A malformed value is never silently replaced: the flush skips the alert rules
 * and the scheduled job skips its pruning (one log line naming the setting each time), and the alert and
 * report routes answer 503, so the mistake is seen.
 */
import { MINUTE_MS } from "../util/time";

export interface MonitoringConfig {
  platformName: string;
  /** traffic_spike: a clock hour's admissions above this multiple of the key's own hourly average… */
  trafficMultiple: number;
  /** …and at least this many admissions in that hour (a key with 3 requests a day is not spiking at 40). */
  trafficMinRequests: number;
  /** refusal_burst: this many refusals of a known key in one clock hour for its own restrictions. */
  refusalBurst: number;
  /** revoked_key_use: this many attempts with a revoked or expired key in one clock hour. */
  revokedUse: number;
  /** A rule firing again for the same key within this window updates the open alert instead of opening one. */
  dedupeMs: number;
  usageRetentionDays: number;
  alertRetentionDays: number;
  /** How long a key's row (and its usage rows) outlives its expiry (src/monitoring/retention.ts). */
  expiredKeyRetentionDays: number;
}

export type MonitoringConfigResult = { ok: true; config: MonitoringConfig } | { ok: false; setting: string };

function integer(
  env: Cloudflare.Env,
  name: keyof Cloudflare.Env,
  fallback: number,
  min: number,
  max: number,
): number | null {
  const raw = String(env[name] ?? "").trim();
  if (raw === "") return fallback;
  const value = Number(raw);
  return /^\d+(\.\d+)?$/.test(raw) && Number.isFinite(value) && value >= min && value <= max ? value : null;
}

/** The monitoring settings, or the first malformed one. */
export function loadMonitoringConfig(env: Cloudflare.Env): MonitoringConfigResult {
  const platformName = String(env.PLATFORM_NAME ?? "").trim() || "edge-key-authorizer";
  if (platformName.length > 100 || /[\u0000-\u001f\u007f|<>]/.test(platformName))
    return { ok: false, setting: "PLATFORM_NAME" };
  const checks = [
    ["ALERT_TRAFFIC_MULTIPLE", integer(env, "ALERT_TRAFFIC_MULTIPLE", 10, 1.5, 1000)],
    ["ALERT_TRAFFIC_MIN_REQUESTS", integer(env, "ALERT_TRAFFIC_MIN_REQUESTS", 100, 1, 1e9)],
    ["ALERT_REFUSAL_BURST", integer(env, "ALERT_REFUSAL_BURST", 20, 1, 1e9)],
    ["ALERT_REVOKED_USE", integer(env, "ALERT_REVOKED_USE", 3, 1, 1e9)],
    ["ALERT_DEDUPE_MINUTES", integer(env, "ALERT_DEDUPE_MINUTES", 60, 1, 10_080)],
    ["USAGE_RETENTION_DAYS", integer(env, "USAGE_RETENTION_DAYS", 400, 31, 3650)],
    ["ALERT_RETENTION_DAYS", integer(env, "ALERT_RETENTION_DAYS", 180, 31, 3650)],
    ["EXPIRED_KEY_RETENTION_DAYS", integer(env, "EXPIRED_KEY_RETENTION_DAYS", 90, 1, 3650)],
  ] as const;
  for (const [setting, value] of checks) if (value === null) return { ok: false, setting };
  // Only the multiple may be fractional; the rest are counts and whole days or minutes.
  for (const [setting, value] of checks.slice(1)) if (!Number.isInteger(value)) return { ok: false, setting };
  const [multiple, minRequests, burst, revoked, dedupeMinutes, usageDays, alertDays, expiredKeyDays] = checks.map(
    ([, v]) => v!,
  ) as number[];
  return {
    ok: true,
    config: {
      platformName,
      trafficMultiple: multiple!,
      trafficMinRequests: minRequests!,
      refusalBurst: burst!,
      revokedUse: revoked!,
      dedupeMs: dedupeMinutes! * MINUTE_MS,
      usageRetentionDays: usageDays!,
      alertRetentionDays: alertDays!,
      expiredKeyRetentionDays: expiredKeyDays!,
    },
  };
}
