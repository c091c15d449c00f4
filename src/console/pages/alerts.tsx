/** GET /alerts: anomaly alerts, open ones first by default, newest first. */
import { validate } from "../../http/json-body";
import type { AlertView } from "../../monitoring/alerts";
import { listAlerts } from "../../operations/list-alerts";
import { alertsQuery } from "../../operations/schemas";
import { type ConsoleContext, consoleOperation, href, monitoring, requirePermission } from "../context";
import { Badge, Empty, formatTime } from "../layout";
import { page } from "../render";
import { Pager, Table } from "../components/table";

export function AlertsTable({ c, alerts }: { c: ConsoleContext; alerts: readonly AlertView[] }) {
  if (alerts.length === 0) return <Empty>No alerts.</Empty>;
  return (
    <Table columns={["Rule", "Status", "Key", "Consumer", "Opened", "Last seen", { label: "Times", num: true }]}>
      {alerts.map((a) => (
        <tr>
          <td>{a.rule.replaceAll("_", " ")}</td>
          <td>
            <Badge status={a.status} />
          </td>
          <td>
            {a.key_id ? (
              <a class="mono" href={href(c, `/keys/${a.key_id}`)}>
                {a.key_id}
              </a>
            ) : (
              "—"
            )}
          </td>
          <td>
            <a href={href(c, `/consumers/${encodeURIComponent(a.owner_id)}`)}>{a.owner_id}</a>
          </td>
          <td>{formatTime(a.opened_at)}</td>
          <td>{formatTime(a.last_seen_at)}</td>
          <td class="num">{a.occurrences}</td>
        </tr>
      ))}
    </Table>
  );
}

export async function alertsPage(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "usage:read");
  const status = c.req.query("status") === "all" ? "all" : "open";
  const cursor = c.req.query("cursor");
  const input = validate(alertsQuery, { status, ...(cursor ? { cursor } : {}) });
  const result = await listAlerts(consoleOperation(c), input, monitoring(c));
  return page(
    c,
    { title: "Alerts", active: "/alerts" },
    <>
      <h1>Alerts</h1>
      <p class="lede">
        Traffic spikes, refusal bursts, revoked keys still in use, new networks.{" "}
        {status === "open" ? (
          <a href={href(c, "/alerts?status=all")}>Show closed alerts too</a>
        ) : (
          <a href={href(c, "/alerts")}>Show open alerts only</a>
        )}
      </p>
      <AlertsTable c={c} alerts={result.alerts} />
      <Pager
        href={result.next_cursor ? href(c, `/alerts?status=${status}&cursor=${result.next_cursor}`) : null}
        label="Older alerts"
      />
    </>,
  );
}
