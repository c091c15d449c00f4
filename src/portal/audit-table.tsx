/**
 * A consumer's audit trail as the portal shows it. Its own actions are "You"; anything else (a person of the
 * platform, a credential, the gateway, a webhook) is "your platform": a consumer never learns who is who on
 * its platform's side. Changes are named, not shown: values such as metadata are the platform's own.
 */
import type { AuditRow } from "../audit/audit-log";
import { Badge, Empty, formatTime } from "../console/layout";
import { actorName } from "../operations/actor";
import { href, type PortalContext, portalActor } from "./context";
import { Table } from "../console/components/table";

/** Who a row names, for the consumer: itself, or its platform. */
function actorLabel(c: PortalContext, actor: string): string {
  return actor === actorName(portalActor(c)) ? "You" : "your platform";
}

function subject(c: PortalContext, e: AuditRow) {
  if (e.subject_type === "key") {
    return (
      <a class="mono" href={href(c, `/keys/${e.subject_id}`)}>
        {e.subject_id}
      </a>
    );
  }
  if (e.subject_type === "portal_session") return "portal link";
  return e.subject_type === "consumer" ? "your account" : e.subject_type;
}

const changedFields = (changes: Record<string, unknown>) =>
  Object.keys(changes)
    .filter((k) => k !== "metadata")
    .join(", ") || "—";

export function PortalAuditTable({ c, entries }: { c: PortalContext; entries: readonly AuditRow[] }) {
  if (entries.length === 0) return <Empty>Nothing has happened yet.</Empty>;
  return (
    <Table columns={["When", "Who", "Action", "What", "Changed"]} class="audit">
      {entries.map((e) => (
        <tr data-action={e.action}>
          <td>{formatTime(e.at)}</td>
          <td data-actor>{actorLabel(c, e.actor)}</td>
          <td>
            <Badge status={e.action} />
          </td>
          <td>{subject(c, e)}</td>
          <td class="mono">{changedFields(e.changes)}</td>
        </tr>
      ))}
    </Table>
  );
}
