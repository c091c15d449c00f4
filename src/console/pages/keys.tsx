/** GET /keys: every key, newest first, filtered by consumer, status and environment, searched by id, name or hint. */
import { validate } from "../../http/json-body";
import { listKeys } from "../../operations/list-keys";
import { listKeysQuery } from "../../operations/schemas";
import { ProblemError } from "../../http/problem";
import { can, type ConsoleContext, consoleOperation, href, requirePermission } from "../context";
import { Badge, Empty, ErrorSummary, type FieldError, formatTime } from "../layout";
import { page } from "../render";
import { Pager, Table } from "../components/table";

const FILTERS = ["q", "owner_id", "status", "environment", "cursor"] as const;

export async function keysPage(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "keys:read");
  const query: Record<string, string> = {};
  for (const name of FILTERS) {
    const value = (c.req.query(name) ?? "").trim();
    if (value !== "") query[name] = value;
  }
  let errors: FieldError[] = [];
  let result: Awaited<ReturnType<typeof listKeys>> = { keys: [], next_cursor: null };
  try {
    result = await listKeys(consoleOperation(c), validate(listKeysQuery, { ...query, limit: "50" }));
  } catch (error) {
    if (!(error instanceof ProblemError) || error.code !== "invalid_request") throw error;
    errors = (error.options.extra?.errors as FieldError[]) ?? [];
  }
  const next = new URLSearchParams({ ...query, cursor: result.next_cursor ?? "" });
  const select = (name: string, options: string[]) => (
    <select id={`f-${name}`} name={name}>
      <option value="">Any</option>
      {options.map((o) => (
        <option value={o} selected={query[name] === o}>
          {o}
        </option>
      ))}
    </select>
  );
  return page(
    c,
    { title: "Keys", active: "/keys" },
    <>
      <div class="head">
        <div>
          <h1>Keys</h1>
          <p class="lede">
            Newest first. The secret of a key is never shown here: only its last characters (the hint).
          </p>
        </div>
        {can(c, "keys:create") ? (
          <a class="button" href={href(c, "/keys/new")}>
            Create key
          </a>
        ) : null}
      </div>
      <ErrorSummary errors={errors} />
      <form method="get" action={href(c, "/keys")} class="filters" aria-label="Filter keys">
        <div class="field">
          <label for="f-q">Search</label>
          <input type="search" id="f-q" name="q" value={query.q ?? ""} placeholder="Key id, name or hint" />
        </div>
        <div class="field">
          <label for="f-owner_id">Consumer</label>
          <input type="text" id="f-owner_id" name="owner_id" value={query.owner_id ?? ""} />
        </div>
        <div class="field">
          <label for="f-status">Status</label>
          {select("status", ["active", "disabled", "revoked", "expired"])}
        </div>
        <div class="field">
          <label for="f-environment">Environment</label>
          {select("environment", ["live", "test"])}
        </div>
        <button type="submit" class="secondary">
          Filter keys
        </button>
      </form>
      {result.keys.length === 0 ? (
        <Empty>No keys match.</Empty>
      ) : (
        <Table columns={["Name", "Key", "Consumer", "Env", "Status", "Created", "Expires", "Last used"]} caption="Keys">
          {result.keys.map((k) => (
            <tr data-key-id={k.id}>
              <td>
                <a href={href(c, `/keys/${k.id}`)}>{k.name === "" ? "(unnamed)" : k.name}</a>
              </td>
              <td class="mono">
                {k.prefix}…{k.hint}
              </td>
              <td>
                <a href={href(c, `/consumers/${encodeURIComponent(k.owner_id)}`)}>{k.owner_id}</a>
              </td>
              <td>{k.environment}</td>
              <td>
                <Badge status={k.status} />
              </td>
              <td>{formatTime(k.created_at)}</td>
              <td>{formatTime(k.expires_at)}</td>
              <td>{formatTime(k.last_used_at)}</td>
            </tr>
          ))}
        </Table>
      )}
      <Pager href={result.next_cursor ? href(c, `/keys?${next}`) : null} label="Next page" />
    </>,
  );
}
