/** GET /audit: the audit log, newest first, by key or consumer; and the console's sign-in attempts. */
import type { AuditRow } from "../../audit/audit-log";
import { validate } from "../../http/json-body";
import { listAudit } from "../../operations/list-audit";
import { listAuditQuery } from "../../operations/schemas";
import { type ConsoleContext, consoleOperation, href, requirePermission } from "../context";
import { Badge, Empty, formatTime } from "../layout";
import { page } from "../render";
import { latestSignIns } from "../session-store";
import { Pager, Table } from "../components/table";

/** What a row changed, in short: `field: value` pairs. Rows never hold secrets (src/audit/audit-log.ts). */
function changesText(changes: Record<string, unknown>): string {
  return Object.entries(changes)
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("; ");
}

export function AuditTable({ c, entries }: { c: ConsoleContext; entries: readonly AuditRow[] }) {
  if (entries.length === 0) return <Empty>No audit rows.</Empty>;
  return (
    <Table columns={["When", "Actor", "Action", "Subject", "Changes"]} class="audit">
      {entries.map((e) => (
        <tr data-action={e.action}>
          <td>{formatTime(e.at)}</td>
          <td>{e.actor}</td>
          <td>
            <Badge status={e.action} />
          </td>
          <td>
            {e.subject_type === "key" ? (
              <a class="mono" href={href(c, `/keys/${e.subject_id}`)}>
                {e.subject_id}
              </a>
            ) : e.subject_type === "consumer" ? (
              <a href={href(c, `/consumers/${encodeURIComponent(e.subject_id)}`)}>{e.subject_id}</a>
            ) : (
              `${e.subject_type} ${e.subject_id}`
            )}
          </td>
          <td class="mono">{changesText(e.changes)}</td>
        </tr>
      ))}
    </Table>
  );
}

export async function auditPage(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "audit:read");
  const query: Record<string, string> = { limit: "50" };
  for (const name of ["key_id", "consumer_id", "cursor"]) {
    const v = (c.req.query(name) ?? "").trim();
    if (v !== "") query[name] = v;
  }
  const input = validate(listAuditQuery, query);
  const [audit, signIns] = await Promise.all([listAudit(consoleOperation(c), input), latestSignIns(c.env.DB, 20)]);
  const next = new URLSearchParams({ ...query, cursor: audit.next_cursor ?? "" });
  return page(
    c,
    { title: "Audit log", active: "/audit" },
    <>
      <h1>Audit log</h1>
      <p class="lede">Every change to a key or a consumer, with who made it. Newest first.</p>
      <form method="get" action={href(c, "/audit")} class="filters" aria-label="Filter the audit log">
        <div class="field">
          <label for="f-key_id">Key id</label>
          <input type="text" id="f-key_id" name="key_id" value={query.key_id ?? ""} />
        </div>
        <div class="field">
          <label for="f-consumer_id">Consumer</label>
          <input type="text" id="f-consumer_id" name="consumer_id" value={query.consumer_id ?? ""} />
        </div>
        <button type="submit" class="secondary">
          Filter rows
        </button>
      </form>
      <AuditTable c={c} entries={audit.entries} />
      <Pager href={audit.next_cursor ? href(c, `/audit?${next}`) : null} label="Older rows" />
      <h2>Console sign-ins</h2>
      {signIns.length === 0 ? (
        <Empty>No sign-in attempts.</Empty>
      ) : (
        <Table columns={["When", "Method", "Outcome", "Who", "Client"]}>
          {signIns.map((s) => (
            <tr>
              <td>{formatTime(new Date(s.at).toISOString())}</td>
              <td>{s.method}</td>
              <td>
                <Badge status={s.outcome} />
              </td>
              <td>{s.actor ?? "—"}</td>
              <td class="mono">{s.client ?? "—"}</td>
            </tr>
          ))}
        </Table>
      )}
    </>,
  );
}
