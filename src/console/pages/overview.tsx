/**
 * GET /: the overview. Active keys, decisions per hour over the last 24 h (admitted and refused by code),
 * open alerts, leaks in the last 30 days with the time to revocation, keys expiring in the next 30 days.
 * The figures are the security report's (one read of each) and the hourly usage of GET /usage.
 */
import { getReport } from "../../operations/get-report";
import { listLeakEvents } from "../../operations/list-leak-events";
import { clock } from "../../util/clock";
import { DAY_MS } from "../../util/time";
import { getUsage } from "../../operations/usage";
import { can, type ConsoleContext, consoleOperation, href, monitoring } from "../context";
import { Empty, formatDuration, formatNumber, formatTime } from "../layout";
import { page } from "../render";
import { UsageChart } from "../usage-chart";
import { AlertsTable } from "./alerts";
import { Table } from "../components/table";

/** The leak events the overview reads (the newest), and the window it shows of them. */
const LEAKS_SHOWN = 20;
const LEAK_WINDOW_DAYS = 30;

/** The median of the known values, or null without any. */
function median(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (known.length === 0) return null;
  const mid = Math.floor(known.length / 2);
  return known.length % 2 === 1 ? known[mid]! : (known[mid - 1]! + known[mid]!) / 2;
}

export async function overviewPage(c: ConsoleContext): Promise<Response> {
  const ctx = consoleOperation(c);
  const [report, usage, leakPage] = await Promise.all([
    can(c, "report:read") ? getReport(ctx, monitoring(c)) : null,
    can(c, "usage:read") ? getUsage(ctx, { granularity: "hour", hours: 24 }) : null,
    can(c, "report:read") ? listLeakEvents(ctx, { limit: LEAKS_SHOWN }) : null,
  ]);
  const since = clock.now() - LEAK_WINDOW_DAYS * DAY_MS;
  const leaks = (leakPage?.events ?? []).filter((e) => e.key_id !== null && Date.parse(e.reported_at) >= since);
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
            `Leaked keys, last ${LEAK_WINDOW_DAYS} days`,
            `${formatNumber(leaks.length)}${leakPage?.next_cursor ? "+" : ""}`,
            leaks.length > 0,
          )}
          {tile("Median time to revocation", formatDuration(median(leaks.map((e) => e.time_to_revocation_ms))))}
        </div>
      ) : null}
      {usage && "hours" in usage ? (
        <UsageChart id="overview-usage" caption="Decisions per hour, last 24 hours, by outcome" hours={usage.hours} />
      ) : null}
      {report ? (
        <>
          <h2>Open alerts</h2>
          <AlertsTable c={c} alerts={report.open_alerts.alerts} />
          <h2>Leaks in the last {LEAK_WINDOW_DAYS} days</h2>
          {leaks.length === 0 ? (
            <Empty>No key of yours was reported found.</Empty>
          ) : (
            <Table columns={["Reported", "Key", "Source", "Outcome", { label: "Time to revocation", num: true }]}>
              {leaks.map((e) => (
                <tr>
                  <td class="when">{formatTime(e.reported_at)}</td>
                  <td>
                    <a class="mono" href={href(c, `/keys/${e.key_id}`)}>
                      {e.key_id}
                    </a>
                  </td>
                  <td>{e.source.replaceAll("_", " ")}</td>
                  <td>{e.outcome.replaceAll("_", " ")}</td>
                  <td class="num">{formatDuration(e.time_to_revocation_ms)}</td>
                </tr>
              ))}
            </Table>
          )}
          <p>
            <a href={href(c, "/leaks")}>Every leak event</a>
          </p>
          <h2>Keys expiring in the next {report.expiring_keys.within_days} days</h2>
          {report.expiring_keys.keys.length === 0 ? (
            <Empty>None.</Empty>
          ) : (
            <Table columns={["Key", "Consumer", "Expires"]}>
              {report.expiring_keys.keys.map((k) => (
                <tr>
                  <td>
                    <a href={href(c, `/keys/${k.id}`)}>{k.name || k.id}</a>
                  </td>
                  <td>{k.owner_id}</td>
                  <td>{formatTime(k.expires_at)}</td>
                </tr>
              ))}
            </Table>
          )}
        </>
      ) : (
        <Empty>The overview's figures need the report:read permission.</Empty>
      )}
    </>,
  );
}
