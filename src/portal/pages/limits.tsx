/** A list of rate limits as a table: a key's own, or the ones its consumer's keys share. */
import type { RateLimit } from "../../keys/key-record";
import { Empty, formatNumber } from "../../console/layout";

function window(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export function LimitsTable({ limits, none }: { limits: readonly RateLimit[]; none: string }) {
  if (limits.length === 0) return <Empty>{none}</Empty>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Limit</th>
          <th scope="col" class="num">
            Requests
          </th>
          <th scope="col">Per</th>
        </tr>
      </thead>
      <tbody>
        {limits.map((l) => (
          <tr>
            <td>{l.name}</td>
            <td class="num">{formatNumber(l.limit)}</td>
            <td>{window(l.window_seconds)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
