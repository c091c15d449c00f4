/**
 * GET /: the overview. Active keys, decisions per hour over the last 24 h (admitted and refused by code),
 * open alerts, leaks in the last 30 days with the time to revocation, keys expiring in the next 30 days.
 * The figures are the security report's (one read of each) and the hourly usage of GET /usage.
 */
import { getReport } from "../../operations/get-report";
import { getUsage } from "../../operations/usage";
import { can, type ConsoleContext, consoleOperation, href, monitoring } from "../context";
import { Empty, formatDuration, formatNumber, formatTime } from "../layout";
import { page } from "../render";
import { UsageChart } from "../usage-chart";
import { AlertsTable } from "./alerts";

export async function overviewPage(c: ConsoleContext): Promise<Response> {
  const ctx = consoleOperation(c);
  const [report, usage] = await Promise.all([
    can(c, "report:read") ? getReport(ctx, monitoring(c)) : null,
    can(c, "usage:read") ? getUsage(ctx, { granularity: "hour", hours: 24 }) : null,
  ]);
  const tile = (label: string, value: string, bad = false) => (
    <div class="tile">
      <div class="label">{label}</div>
      <div class={bad ? "value bad" : "value"}>{value}</div>
    </div>
  );
  return page(
    c,
    { title: "Overview", active: "/", charts: true },
    <>
      <h1>Overview</h1>
      <p class="lede">
        {report ? `${report.platform}, as of ${formatTime(report.generated_at)}.` : "Your keys at a glance."}
      </p>
      {report ? (
        <div class="tiles">
          {tile("Active keys", formatNumber(report.active_keys))}
          {tile("Decisions, last 24 h", formatNumber(report.validations.last_24h.total))}
          {tile(
            "Refused, last 24 h",
            formatNumber(report.validations.last_24h.total - report.validations.last_24h.valid),
          )}
          {tile("Open alerts", formatNumber(report.open_alerts.count), report.open_alerts.count > 0)}
          {tile(
            `Leaks, last ${report.leaks.window_days} days`,
            formatNumber(report.leaks.keys_detected_in_public_sources),
            report.leaks.keys_detected_in_public_sources > 0,
          )}
          {tile("Median time to revocation", formatDuration(report.leaks.median_report_to_revocation_ms))}
        </div>
      ) : null}
      {usage && "hours" in usage ? (
        <UsageChart id="overview-usage" caption="Decisions per hour, last 24 hours, by outcome" hours={usage.hours} />
      ) : null}
      {report ? (
        <>
          <h2>Open alerts</h2>
          <AlertsTable c={c} alerts={report.open_alerts.alerts} />
          <h2>Leaks in the last {report.leaks.window_days} days</h2>
          <div class="panel">
            <dl class="props">
              <dt>Keys found in public sources</dt>
              <dd>{formatNumber(report.leaks.keys_detected_in_public_sources)}</dd>
              <dt>Revoked after a report</dt>
              <dd>{formatNumber(report.leaks.revocations_after_report)}</dd>
              <dt>Time to revocation</dt>
              <dd>
                median {formatDuration(report.leaks.median_report_to_revocation_ms)}, mean{" "}
                {formatDuration(report.leaks.mean_report_to_revocation_ms)}
              </dd>
              <dt>Caught by a scanner before commit</dt>
              <dd>{formatNumber(report.leaks.keys_found_by_scanner_before_commit)}</dd>
            </dl>
          </div>
          <h2>Keys expiring in the next {report.expiring_keys.within_days} days</h2>
          {report.expiring_keys.keys.length === 0 ? (
            <Empty>None.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col">Consumer</th>
                    <th scope="col">Expires</th>
                  </tr>
                </thead>
                <tbody>
                  {report.expiring_keys.keys.map((k) => (
                    <tr>
                      <td>
                        <a href={href(c, `/keys/${k.id}`)}>{k.name || k.id}</a>
                      </td>
                      <td>{k.owner_id}</td>
                      <td>{formatTime(k.expires_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      ) : (
        <Empty>The overview's figures need the report:read permission.</Empty>
      )}
    </>,
  );
}
