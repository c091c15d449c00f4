/**
 * The security report as Markdown, for people (auditors, security reviews). Pure: the figures come from
 * `buildReport`; nothing here reads storage or invents a number.
 */
import type { SecurityReport } from "./report-schema";

/** A duration in words: "45 s", "12 min 5 s", "3 h 20 min", "2 d 4 h". */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "n/a (no revocations)";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Table cells may hold names chosen by admins: keep them on one line and out of the table syntax. */
const cell = (text: string) => text.replace(/[\r\n]+/g, " ").replaceAll("|", "\\|");

const n = (value: number) => value.toLocaleString("en-US");

/** The consumers section: its figures, the busiest consumers, and those holding keys due for rotation. */
function consumerLines(c: SecurityReport["consumers"]): string[] {
  const median = c.live_keys_per_consumer.median;
  const lines = [
    "## Consumers",
    "",
    `- Consumers: **${n(c.count)}** (${n(c.live_keys_per_consumer.without_live_keys)} without a live key)`,
    `- Live keys per consumer: median ${median === null ? "n/a" : n(median)}, max ${n(c.live_keys_per_consumer.max)}`,
    `- Consumers without shared limits: **${n(c.without_shared_limits)}**`,
    `- Consumers with live keys older than ${c.keys_due_rotation.older_than_days} days and not rotated: **${n(c.keys_due_rotation.count)}**`,
    "",
    "### Top consumers by traffic (last 24 hours)",
    "",
  ];
  if (c.top_by_traffic_24h.length === 0) lines.push("None.");
  else {
    lines.push("| consumer | validations | admitted |", "|---|---:|---:|");
    for (const t of c.top_by_traffic_24h) lines.push(`| ${cell(t.consumer_id)} | ${n(t.total)} | ${n(t.valid)} |`);
  }
  lines.push("", `### Consumers with keys not rotated for ${c.keys_due_rotation.older_than_days} days`, "");
  if (c.keys_due_rotation.count === 0) lines.push("None.");
  else {
    lines.push("| consumer | keys | oldest created |", "|---|---:|---|");
    for (const s of c.keys_due_rotation.consumers)
      lines.push(`| ${cell(s.consumer_id)} | ${n(s.keys)} | ${s.oldest_created_at} |`);
    if (c.keys_due_rotation.count > c.keys_due_rotation.consumers.length)
      lines.push("", `… and ${c.keys_due_rotation.count - c.keys_due_rotation.consumers.length} more.`);
  }
  lines.push("");
  return lines;
}

export function renderMarkdown(r: SecurityReport): string {
  const lines: string[] = [
    `# ${r.title}`,
    "",
    `**Platform:** ${cell(r.platform)}  `,
    `**Generated:** ${r.generated_at}`,
    "",
    "## Summary",
    "",
    `- Active keys: **${n(r.active_keys)}** (disabled ${n(r.keys_by_status.disabled)}, revoked ${n(r.keys_by_status.revoked)}, expired ${n(r.keys_by_status.expired)})`,
    `- Validations in the last 24 hours: **${n(r.validations.last_24h.total)}** (${n(r.validations.last_24h.valid)} admitted)`,
    `- Open alerts: **${n(r.open_alerts.count)}**`,
    `- Keys expiring in the next ${r.expiring_keys.within_days} days: **${n(r.expiring_keys.count)}**`,
    "",
    "### Validations per day (UTC, last 7 days)",
    "",
    "| day | validations | admitted |",
    "|---|---:|---:|",
    ...r.validations.per_day.map((d) => `| ${d.day} | ${n(d.total)} | ${n(d.valid)} |`),
    "",
    ...consumerLines(r.consumers),
    "## Controls",
    "",
    "| control | implementation | status | evidence |",
    "|---|---|---|---|",
    ...r.controls.map((c) => `| ${c.control} | ${cell(c.implementation)} | ${c.status} | ${cell(c.evidence)} |`),
    "",
    `## Key leakage (last ${r.leaks.window_days} days)`,
    "",
    `- Keys detected in public sources: **${n(r.leaks.keys_detected_in_public_sources)}** (${n(r.leaks.public_reports)} reports, ${n(r.leaks.public_reports_without_matching_key)} matching no key)`,
    `- Revocations after a report: ${n(r.leaks.revocations_after_report)}`,
    `- Time from report to revocation: average ${formatDuration(r.leaks.mean_report_to_revocation_ms)}, median ${formatDuration(r.leaks.median_report_to_revocation_ms)}`,
    `- Keys found by the built-in scanner before commit: **${n(r.leaks.keys_found_by_scanner_before_commit)}** (${n(r.leaks.scanner_reports)} reports)`,
    "",
    "## Open alerts",
    "",
  ];
  if (r.open_alerts.count === 0) lines.push("None.");
  else {
    lines.push("| id | rule | key | owner | opened | last seen | occurrences |", "|---:|---|---|---|---|---|---:|");
    for (const a of r.open_alerts.alerts) {
      lines.push(
        `| ${a.id} | ${a.rule} | ${a.key_id ?? "(consumer-wide)"} | ${cell(a.owner_id)} | ${a.opened_at} | ${a.last_seen_at} | ${a.occurrences} |`,
      );
    }
    if (r.open_alerts.count > r.open_alerts.alerts.length)
      lines.push("", `… and ${r.open_alerts.count - r.open_alerts.alerts.length} more.`);
  }
  lines.push("", `## Keys expiring in the next ${r.expiring_keys.within_days} days`, "");
  if (r.expiring_keys.count === 0) lines.push("None.");
  else {
    lines.push("| key | owner | name | expires |", "|---|---|---|---|");
    for (const k of r.expiring_keys.keys)
      lines.push(`| ${k.id} | ${cell(k.owner_id)} | ${cell(k.name)} | ${k.expires_at} |`);
    if (r.expiring_keys.count > r.expiring_keys.keys.length)
      lines.push("", `… and ${r.expiring_keys.count - r.expiring_keys.keys.length} more.`);
  }
  lines.push("");
  return lines.join("\n");
}
