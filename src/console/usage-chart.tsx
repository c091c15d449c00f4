/** A usage answer of the operations (per day or per hour) as a chart with its table: one column per outcome. */
import { Chart, type ChartRow } from "./layout";

interface Bucket {
  total: number;
  outcomes: Record<string, number>;
}

/** Admissions first, then the refusal codes in order of how often they occurred. */
function outcomeColumns(buckets: readonly Bucket[]): string[] {
  const totals = new Map<string, number>();
  for (const b of buckets) for (const [o, n] of Object.entries(b.outcomes)) totals.set(o, (totals.get(o) ?? 0) + n);
  const refusals = [...totals.entries()].filter(([o]) => o !== "valid").sort((a, b) => b[1] - a[1]);
  return ["valid", ...refusals.map(([o]) => o)];
}

export function UsageChart(props: {
  id: string;
  caption: string;
  days?: readonly (Bucket & { day: string })[];
  hours?: readonly (Bucket & { hour: string })[];
}) {
  const buckets = props.days ?? props.hours ?? [];
  const columns = outcomeColumns(buckets);
  const rows: ChartRow[] = buckets.map((b) => {
    const at = "day" in b ? `${b.day}T00:00:00Z` : (b as { hour: string }).hour;
    const t = Math.floor(Date.parse(at) / 1000);
    const label = "day" in b ? b.day : `${at.slice(5, 10)} ${at.slice(11, 16)}`;
    return { t, label, values: columns.map((o) => b.outcomes[o] ?? 0) };
  });
  rows.reverse(); // newest first in the table
  const names = columns.map((o) => (o === "valid" ? "admitted" : o));
  return (
    <Chart
      id={props.id}
      caption={props.caption}
      columns={names}
      rows={rows}
      xLabel={props.days ? "Day (UTC)" : "Hour (UTC)"}
    />
  );
}
