/** GET /leaks: leak events, newest first, with where each key was found and how long its revocation took. */
import { validate } from "../../http/json-body";
import { listLeakEvents } from "../../operations/list-leak-events";
import { listLeakEventsQuery } from "../../operations/schemas";
import { type ConsoleContext, consoleOperation, href, requirePermission } from "../context";
import { Badge, Empty, formatDuration, formatTime } from "../layout";
import { page } from "../render";
import { Pager, Table } from "../components/table";

export async function leaksPage(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "report:read");
  const query: Record<string, string> = {};
  for (const name of ["key_id", "cursor"]) {
    const v = (c.req.query(name) ?? "").trim();
    if (v !== "") query[name] = v;
  }
  const result = await listLeakEvents(consoleOperation(c), validate(listLeakEventsQuery, query));
  const next = new URLSearchParams({ ...query, cursor: result.next_cursor ?? "" });
  return page(
    c,
    { title: "Leak events", active: "/leaks" },
    <>
      <h1>Leak events</h1>
      <p class="lede">
        Keys reported found where they should not be: GitHub secret scanning, gitleaks, truffleHog, the built-in
        scanner, keys seen in a URL.
      </p>
      {result.events.length === 0 ? (
        <Empty>No leak events.</Empty>
      ) : (
        <Table
          columns={[
            "Reported",
            "Source",
            "Key",
            "Consumer",
            "Where",
            "Outcome",
            { label: "Time to revocation", num: true },
          ]}
        >
          {result.events.map((e) => (
            <tr data-leak-id={String(e.id)}>
              <td>{formatTime(e.reported_at)}</td>
              <td>{e.source.replaceAll("_", " ")}</td>
              <td>
                {e.key_id ? (
                  <a class="mono" href={href(c, `/keys/${e.key_id}`)}>
                    {e.key_id}
                  </a>
                ) : (
                  "no key matched"
                )}
              </td>
              <td>{e.consumer_id ?? "—"}</td>
              <td class="mono">{e.location ?? "—"}</td>
              <td>
                <Badge
                  status={e.outcome === "revoked" ? "revoked" : e.outcome === "recorded" ? "open" : "expired"}
                  label={e.outcome.replaceAll("_", " ")}
                />
              </td>
              <td class="num">{formatDuration(e.time_to_revocation_ms)}</td>
            </tr>
          ))}
        </Table>
      )}
      <Pager href={result.next_cursor ? href(c, `/leaks?${next}`) : null} label="Older events" />
    </>,
  );
}
