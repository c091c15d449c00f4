/**
 * The monitoring settings (src/monitoring/config.ts) on their own: defaults, bounds, and the first malformed
 * setting named instead of quietly replaced.
 */
import { describe, expect, it } from "vitest";
import { loadMonitoringConfig } from "../../src/monitoring/config";
import { MINUTE_MS } from "../../src/util/time";

const settings = (vars: Record<string, string> = {}) => vars as unknown as Cloudflare.Env;

function loaded(vars: Record<string, string>) {
  const result = loadMonitoringConfig(settings(vars));
  if (!result.ok) throw new Error(`refused ${result.setting}`);
  return result.config;
}

describe("loadMonitoringConfig", () => {
  it("gives the documented defaults for empty (or blank) settings", () => {
    const defaults = {
      platformName: "edge-key-authorizer",
      trafficMultiple: 10,
      trafficMinRequests: 100,
      refusalBurst: 20,
      revokedUse: 3,
      dedupeMs: 60 * MINUTE_MS,
      usageRetentionDays: 400,
      alertRetentionDays: 180,
      expiredKeyRetentionDays: 90,
    };
    expect(loaded({})).toEqual(defaults);
    expect(loaded({ PLATFORM_NAME: "  ", ALERT_TRAFFIC_MULTIPLE: "", ALERT_DEDUPE_MINUTES: " " })).toEqual(defaults);
  });

  it("reads every setting at its bounds; only the multiple may be fractional", () => {
    expect(
      loaded({
        PLATFORM_NAME: " Acme Payments ",
        ALERT_TRAFFIC_MULTIPLE: "1.5",
        ALERT_TRAFFIC_MIN_REQUESTS: "1",
        ALERT_REFUSAL_BURST: "1000000000",
        ALERT_REVOKED_USE: "1",
        ALERT_DEDUPE_MINUTES: "10080",
        USAGE_RETENTION_DAYS: "31",
        ALERT_RETENTION_DAYS: "3650",
        EXPIRED_KEY_RETENTION_DAYS: "1",
      }),
    ).toEqual({
      platformName: "Acme Payments",
      trafficMultiple: 1.5,
      trafficMinRequests: 1,
      refusalBurst: 1_000_000_000,
      revokedUse: 1,
      dedupeMs: 10_080 * MINUTE_MS,
      usageRetentionDays: 31,
      alertRetentionDays: 3650,
      expiredKeyRetentionDays: 1,
    });
    expect(loaded({ ALERT_TRAFFIC_MULTIPLE: "1000", USAGE_RETENTION_DAYS: "3650" })).toMatchObject({
      trafficMultiple: 1000,
      usageRetentionDays: 3650,
    });
  });

  it.each<[string, string[]]>([
    // The name goes into the Markdown report's title and table: no control characters, pipes or angle brackets.
    ["PLATFORM_NAME", ["a|b", "<script>", "line\nbreak", "tab\tin", "x".repeat(101)]],
    ["ALERT_TRAFFIC_MULTIPLE", ["1.4", "1001", "-2", "1e2", "ten", "0x10"]],
    ["ALERT_TRAFFIC_MIN_REQUESTS", ["0", "1.5", "1000000001", "-1"]],
    ["ALERT_REFUSAL_BURST", ["0", "2.5", "many"]],
    ["ALERT_REVOKED_USE", ["0", "3.0001"]],
    ["ALERT_DEDUPE_MINUTES", ["0", "10081", "1.5"]],
    ["USAGE_RETENTION_DAYS", ["30", "3651", "45.5"]],
    ["ALERT_RETENTION_DAYS", ["30", "3651"]],
    ["EXPIRED_KEY_RETENTION_DAYS", ["0", "3651", "1.5"]],
  ])("refuses a malformed %s, naming it", (setting, values) => {
    for (const value of values)
      expect(loadMonitoringConfig(settings({ [setting]: value })), value).toEqual({ ok: false, setting });
  });

  it("names the first malformed setting when several are", () => {
    expect(loadMonitoringConfig(settings({ ALERT_REVOKED_USE: "0", ALERT_TRAFFIC_MULTIPLE: "0" }))).toEqual({
      ok: false,
      setting: "ALERT_TRAFFIC_MULTIPLE",
    });
  });
});
