import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { median, mean } from "../../src/monitoring/report";
import { formatDuration } from "../../src/monitoring/report-markdown";
import type { SecurityReport } from "../../src/monitoring/report-schema";
import { ADMIN_TOKEN, admin, callWith, mintKey } from "../helpers";
import { testClock } from "../clock";
import { DAY_MS, HOUR_MS, utcDay } from "../../src/util/time";

const GITHUB = {
  GITHUB_SECRET_SCANNING_KEYS_URL: "https://api.github.com/meta/public_keys/secret_scanning",
} as Partial<Cloudflare.Env>;

async function report(overrides: Partial<Cloudflare.Env>, format: "json" | "markdown") {
  const response = await callWith(overrides, `/admin/v1/report?format=${format}`, {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(response.status).toBe(200);
  return response;
}
const jsonReport = async (overrides: Partial<Cloudflare.Env> = {}) =>
  (await (await report(overrides, "json")).json()) as SecurityReport;
/** The report's row for a control; fails the test if there is none. */
function controlOf(report: SecurityReport, name: string) {
  const row = report.controls.find((c) => c.control === name);
  if (!row) throw new Error(`no control ${name} in the report`);
  return row;
}

const now = testClock.now();
const ids: Record<string, string> = {};

describe("the security report", () => {
  beforeAll(async () => {
    // Keys: three plain, one expiring in 10 days, one revoked, one disabled, one rotated (its successor is active
    // and it is in its grace period), one with an IP allowlist and the admin scope.
    for (const name of ["a", "b", "c"]) ids[name] = (await mintKey({ name })).id;
    ids.soon = (await mintKey({ name: "soon | expiring", expires_in_days: 10, owner_id: "owner-soon" })).id;
    ids.revoked = (await mintKey()).id;
    expect((await admin(`/keys/${ids.revoked}/revoke`)).status).toBe(200);
    ids.disabled = (await mintKey()).id;
    expect((await admin(`/keys/${ids.disabled}/disable`)).status).toBe(200);
    ids.rotated = (await mintKey()).id;
    expect((await admin(`/keys/${ids.rotated}/rotate`, { json: { grace_period_hours: 24 } })).status).toBe(201);
    ids.locked = (await mintKey({ ip_allowlist: ["10.0.0.0/8"], scopes: ["admin"] })).id;
  });

  it("before any GitHub alert, leak detection is configured but not Active", async () => {
    const r = await jsonReport(GITHUB);
    expect(controlOf(r, "Leak detection").status).toBe("Partial");
    expect(r.leaks.keys_detected_in_public_sources).toBe(0);
    expect(r.leaks.median_report_to_revocation_ms).toBeNull();
  });

  it("computes every figure from live data", async () => {
    const leak = (
      keyId: string | null,
      source: string,
      outcome: string,
      reportedAt: number,
      revokeAfterMs: number | null,
    ) =>
      env.DB.prepare(
        "INSERT INTO leak_events (key_id, source, fingerprint, location, reported_at, revoked_at, outcome) VALUES (?, ?, ?, 'x', ?, ?, ?)",
      ).bind(
        keyId,
        source,
        crypto.randomUUID(),
        reportedAt,
        revokeAfterMs === null ? null : reportedAt + revokeAfterMs,
        outcome,
      );
    await env.DB.batch([
      leak("key_leakedOne000000000000", "github", "revoked", now - 10 * 60_000, 60_000),
      leak("key_leakedTwo000000000000", "github", "revoked", now - HOUR_MS, 180_000),
      leak("key_leakedThree0000000000", "github", "revoked", now - 2 * DAY_MS, 30_000),
      leak("key_leakedThree0000000000", "github", "already_revoked", now - DAY_MS, null), // the same key again
      leak(null, "github", "no_match", now - DAY_MS, null),
      leak("key_leakedOld000000000000", "github", "revoked", now - 40 * DAY_MS, 1_000), // outside the 30 days
      leak("key_scannedOne00000000000", "scanner", "recorded", now - 3 * DAY_MS, null),
      leak("key_scannedOne00000000000", "scanner", "recorded", now - 2 * DAY_MS, null),
      leak("key_scannedTwo00000000000", "scanner", "revoked", now - DAY_MS, 500),
      // Leaked admin credentials: the report's leak figures are about keys, so these change none of them.
      ...(["github", "scanner"] as const).map((source) =>
        env.DB.prepare(
          "INSERT INTO leak_events (key_id, credential_id, source, fingerprint, location, reported_at, revoked_at, outcome) VALUES (NULL, 'cred_leaked0000000000000000', ?, ?, 'x', ?, ?, 'revoked')",
        ).bind(source, crypto.randomUUID(), now - HOUR_MS, now - HOUR_MS + 5),
      ),
    ]);
    const hour = now - (now % HOUR_MS);
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO usage_hourly (hour, key_id, outcome, count) VALUES (?1, 'k1', 'valid', 40), (?1, '', 'invalid_key', 5), (?2, 'k1', 'valid', 7), (?3, 'k1', 'valid', 1000)",
      ).bind(
        hour,
        hour - 23 * HOUR_MS,
        hour - 24 * HOUR_MS, // 25 clock hours back counting the current one: outside the last 24 hours
      ),
      env.DB.prepare(
        "INSERT INTO usage_daily (day, key_id, outcome, count) VALUES (?1, 'k1', 'valid', 100), (?1, 'k1', 'key_revoked', 3), (?2, 'k2', 'valid', 11), (?3, 'k1', 'valid', 999)",
      ).bind(
        utcDay(now),
        utcDay(now - 6 * DAY_MS),
        utcDay(now - 7 * DAY_MS), // outside the 7 days
      ),
      env.DB.prepare(
        "INSERT INTO alerts (rule, key_id, owner_id, opened_at, last_seen_at, details) VALUES ('refusal_burst', ?1, 'owner-1', ?2, ?2, '{}'), ('new_network', ?1, 'owner-1', ?3, ?3, '{}')",
      ).bind(
        ids.a,
        now - 60_000,
        now - 2 * DAY_MS, // closed: outside the dedupe window
      ),
    ]);

    const r = await jsonReport({
      ...GITHUB,
      PLATFORM_NAME: "Acme Payments API",
      KEY_VENDOR_PREFIX: "acme",
      MAX_KEY_LIFETIME_DAYS: "180",
    } as Partial<Cloudflare.Env>);
    expect(r.title).toBe("API Key Security Implementation Report");
    expect(r.platform).toBe("Acme Payments API");
    // a, b, c, soon, rotated (in grace), its successor, locked
    expect(r.active_keys).toBe(7);
    expect(r.keys_by_status).toEqual({ active: 7, disabled: 1, revoked: 1, expired: 0 });
    expect(r.validations.last_24h).toEqual({ total: 52, valid: 47 });
    expect(r.validations.per_day).toHaveLength(7);
    expect(r.validations.per_day[0]).toEqual({ day: utcDay(now - 6 * DAY_MS), total: 11, valid: 11 });
    expect(r.validations.per_day[6]).toEqual({ day: utcDay(now), total: 103, valid: 100 });
    expect(r.validations.per_day.slice(1, 6).every((d) => d.total === 0)).toBe(true);

    expect(r.leaks).toEqual({
      window_days: 30,
      keys_detected_in_public_sources: 3,
      public_reports: 5,
      public_reports_without_matching_key: 1,
      revocations_after_report: 3,
      mean_report_to_revocation_ms: 90_000,
      median_report_to_revocation_ms: 60_000,
      keys_found_by_scanner_before_commit: 2,
      scanner_reports: 3,
    });
    expect(r.open_alerts.count).toBe(1);
    expect(r.open_alerts.alerts.map((a) => a.rule)).toEqual(["refusal_burst"]);
    expect(r.expiring_keys.count).toBe(1);
    expect(r.expiring_keys.keys[0]).toMatchObject({ id: ids.soon, owner_id: "owner-soon" });

    const control = (name: string) => controlOf(r, name);
    expect(control("Leak detection").status).toBe("Active");
    expect(control("Auto-revocation").evidence).toContain("3 revocations");
    expect(control("Key format").status).toBe("Active");
    expect(control("Expiration").implementation).toContain("maximum lifetime 180 days");
    expect(control("Rotation")).toMatchObject({ status: "Active", evidence: "1 rotations in the last 90 days" });
    expect(control("Scoping").evidence).toBe(
      "1 of 7 active keys restricted by network, route or origin; 1 hold the admin scope",
    );
    expect(control("Storage").status).toBe("Active");
    expect(control("Key entropy").evidence).toBe("256 bits per key");

    // The same data without the GitHub endpoint or a vendor prefix.
    const plain = await jsonReport();
    expect(controlOf(plain, "Leak detection").status).toBe("Not configured");
    expect(controlOf(plain, "Key format").status).toBe("Partial");
    expect(plain.platform).toBe("edge-key-authorizer");
  });

  it("renders the same figures as Markdown", async () => {
    const response = await report(
      { ...GITHUB, PLATFORM_NAME: "Acme Payments API" } as Partial<Cloudflare.Env>,
      "markdown",
    );
    expect(response.headers.get("Content-Type")).toBe("text/markdown; charset=utf-8");
    const md = await response.text();
    expect(md.split("\n")[0]).toBe("# API Key Security Implementation Report");
    expect(md).toContain("**Platform:** Acme Payments API");
    expect(md).toContain("- Active keys: **7** (disabled 1, revoked 1, expired 0)");
    expect(md).toContain("- Validations in the last 24 hours: **52** (47 admitted)");
    expect(md).toContain("- Keys detected in public sources: **3** (5 reports, 1 matching no key)");
    expect(md).toContain("average 1 min 30 s, median 1 min 0 s");
    expect(md).toContain("- Keys found by the built-in scanner before commit: **2** (3 reports)");
    expect(md).toMatch(/\| Leak detection \| [^\n]* \| Active \| /);
    expect(md).toContain(`| ${ids.soon} | owner-soon | soon \\| expiring |`); // a name cannot break the table
    expect(md).toContain(`| refusal_burst | ${ids.a} |`);
  });
});

describe("report arithmetic", () => {
  it("median and mean", () => {
    expect(median([])).toBeNull();
    expect(median([5])).toBe(5);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(mean([1, 2, 6])).toBe(3);
    expect(mean([])).toBeNull();
  });
  it("durations", () => {
    expect(formatDuration(null)).toBe("n/a (no revocations)");
    expect(formatDuration(45_000)).toBe("45 s");
    expect(formatDuration(725_000)).toBe("12 min 5 s");
    expect(formatDuration(3 * HOUR_MS + 20 * 60_000)).toBe("3 h 20 min");
    expect(formatDuration(52 * HOUR_MS)).toBe("2 d 4 h");
  });
});
