/** A key's or a consumer's limits with what is left of each now (the read-only limits view: nothing is spent). */
import type { LimitView } from "../limits/limit-view";
import { Empty, formatNumber, formatTime } from "./layout";

function windowText(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export function LimitsTable({ limits }: { limits: readonly LimitView[] }) {
  if (limits.length === 0) return <Empty>No limits.</Empty>;
  return (
    <div class="table-wrap">
      <table class="limits">
        <thead>
          <tr>
            <th scope="col">Limit</th>
            <th scope="col">Whose</th>
            <th scope="col" class="num">
              Left now
            </th>
            <th scope="col" class="num">
              Of
            </th>
            <th scope="col" class="num">
              Per
            </th>
            <th scope="col">Window resets</th>
          </tr>
        </thead>
        <tbody>
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
        </tbody>
      </table>
    </div>
  );
}
