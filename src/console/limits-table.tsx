/** A key's or a consumer's limits with what is left of each now (the read-only limits view: nothing is spent). */
import type { LimitView } from "../limits/limit-view";
import { Empty, formatNumber, formatTime } from "./layout";
import { Table } from "./components/table";

function windowText(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export function LimitsTable({ limits }: { limits: readonly LimitView[] }) {
  if (limits.length === 0) return <Empty>No limits.</Empty>;
  return (
    <Table
      columns={[
        "Limit",
        "Whose",
        { label: "Left now", num: true },
        { label: "Of", num: true },
        { label: "Per", num: true },
        "Window resets",
      ]}
      class="limits"
    >
      {limits.map((l) => (
        <tr data-limit={l.name}>
          <td>{l.name}</td>
          <td>{l.subject === "consumer" ? "consumer (shared)" : "key"}</td>
          <td class="num">{formatNumber(l.remaining)}</td>
          <td class="num">{formatNumber(l.limit)}</td>
          <td class="num">{windowText(l.window_seconds)}</td>
          <td class="when">{formatTime(l.reset_at)}</td>
        </tr>
      ))}
    </Table>
  );
}
