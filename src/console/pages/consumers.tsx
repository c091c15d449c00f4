/** GET /consumers: the consumers (the owners of keys), newest first, by status. */
import { validate } from "../../http/json-body";
import { listConsumers } from "../../operations/list-consumers";
import { listConsumersQuery } from "../../operations/schemas";
import { type ConsoleContext, consoleOperation, href, requirePermission } from "../context";
import { Badge, Empty, formatTime } from "../layout";
import { page } from "../render";
import { Pager, Table } from "../components/table";

export async function consumersPage(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "consumers:read");
  const query: Record<string, string> = { limit: "50" };
  for (const name of ["id", "status", "cursor"]) {
    const v = (c.req.query(name) ?? "").trim();
    if (v !== "") query[name] = v;
  }
  const result = await listConsumers(consoleOperation(c), validate(listConsumersQuery, query));
  const next = new URLSearchParams({ ...query, cursor: result.next_cursor ?? "" });
  return page(
    c,
    { title: "Consumers", active: "/consumers" },
    <>
      <h1>Consumers</h1>
      <p class="lede">The owners of keys: each with shared limits across its keys and a key policy.</p>
      <form method="get" action={href(c, "/consumers")} class="filters" aria-label="Find consumers">
        <div class="field">
          <label for="f-id">Consumer id</label>
          <input type="text" id="f-id" name="id" value={query.id ?? ""} />
        </div>
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" name="status">
            <option value="">Any</option>
            {["active", "disabled", "deleted"].map((s) => (
              <option value={s} selected={query.status === s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="secondary">
          Find consumers
        </button>
      </form>
      {result.consumers.length === 0 ? (
        <Empty>No consumers match. A consumer is created with its first key, or through the admin API.</Empty>
      ) : (
        <Table columns={["Consumer", "Name", "Status", "Shared limits", "Created"]}>
          {result.consumers.map((x) => (
            <tr>
              <td>
                <a href={href(c, `/consumers/${encodeURIComponent(x.id)}`)}>{x.id}</a>
              </td>
              <td>{x.name || "—"}</td>
              <td>
                <Badge status={x.status} />
              </td>
              <td>
                {x.rate_limits.length === 0
                  ? "none"
                  : x.rate_limits.map((l) => `${l.limit}/${l.window_seconds}s`).join(", ")}
              </td>
              <td>{formatTime(x.created_at)}</td>
            </tr>
          ))}
        </Table>
      )}
      <Pager href={result.next_cursor ? href(c, `/consumers?${next}`) : null} label="Next page" />
    </>,
  );
}
