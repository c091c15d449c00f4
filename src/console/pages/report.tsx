/** GET /report: the API Key Security Implementation Report (GET /admin/v1/report's content), with charts. */
import { getReport } from "../../operations/get-report";
import { type ConsoleContext, consoleOperation, monitoring, requirePermission } from "../context";
import { Badge, Chart, formatDuration, formatNumber, formatTime } from "../layout";
import { page } from "../render";
import { Table } from "../components/table";

export async function reportPage(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "report:read");
  const r = await getReport(consoleOperation(c), monitoring(c));
  const perDay = r.validations.per_day.map((d) => ({
    t: Math.floor(Date.parse(`${d.day}T00:00:00Z`) / 1000),
    label: d.day,
    values: [d.valid, d.total - d.valid],
  }));
  perDay.reverse(); // newest first in the table
  const statusRows = (["active", "disabled", "revoked", "expired"] as const).map((s, i) => ({
    t: i,
    label: s,
    values: [r.keys_by_status[s]],
  }));
  return page(
    c,
    { title: "Security report", active: "/report", charts: true },
    <>
      <h1>{r.title}</h1>
      <p class="lede">
        {r.platform}, generated {formatTime(r.generated_at)}.
      </p>
      <Chart
        id="report-validations"
        caption="Decisions per day"
        columns={["admitted", "refused"]}
        rows={perDay}
        xLabel="Day (UTC)"
      />
      <Chart id="report-status" caption="Keys by status" columns={["keys"]} rows={statusRows} xLabel="Status" />
      <h2>Security controls</h2>
      <Table columns={["Control", "Implementation", "Status", "Evidence"]}>
        {r.controls.map((x) => (
          <tr>
            <td>{x.control}</td>
            <td>{x.implementation}</td>
            <td>
              <Badge
                status={x.status === "Active" ? "control_active" : x.status.toLowerCase().replace(" ", "_")}
                label={x.status}
              />
            </td>
            <td>{x.evidence}</td>
          </tr>
        ))}
      </Table>
      <h2>Consumers</h2>
      <div class="panel">
        <dl class="props">
          <dt>Consumers</dt>
          <dd>{formatNumber(r.consumers.count)}</dd>
          <dt>Live keys per consumer</dt>
          <dd>
            median {r.consumers.live_keys_per_consumer.median ?? "—"}, max {r.consumers.live_keys_per_consumer.max};{" "}
            {r.consumers.live_keys_per_consumer.without_live_keys} without live keys
          </dd>
          <dt>Without shared limits</dt>
          <dd>{formatNumber(r.consumers.without_shared_limits)}</dd>
          <dt>Keys due for rotation</dt>
          <dd>
            {r.consumers.keys_due_rotation.count} consumers hold keys older than{" "}
            {r.consumers.keys_due_rotation.older_than_days} days
          </dd>
        </dl>
      </div>
      <h2>Leaks, last {r.leaks.window_days} days</h2>
      <div class="panel">
        <dl class="props">
          <dt>Public reports</dt>
          <dd>
            {r.leaks.public_reports} ({r.leaks.public_reports_without_matching_key} matching no key)
          </dd>
          <dt>Keys detected</dt>
          <dd>{r.leaks.keys_detected_in_public_sources}</dd>
          <dt>Revoked after report</dt>
          <dd>{r.leaks.revocations_after_report}</dd>
          <dt>Report to revocation</dt>
          <dd>
            median {formatDuration(r.leaks.median_report_to_revocation_ms)}, mean{" "}
            {formatDuration(r.leaks.mean_report_to_revocation_ms)}
          </dd>
          <dt>Scanner reports</dt>
          <dd>
            {r.leaks.scanner_reports} ({r.leaks.keys_found_by_scanner_before_commit} keys caught before commit)
          </dd>
        </dl>
      </div>
    </>,
  );
}
