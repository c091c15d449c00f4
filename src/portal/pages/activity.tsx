/** GET /activity: the consumer's whole audit trail, newest first, a page at a time. */
import { listAudit } from "../../operations/list-audit";
import { PortalAuditTable } from "../audit-table";
import { consumer, href, type PortalContext, portalOperation } from "../context";
import { page } from "../render";
import { Pager } from "../../console/components/table";

const ROWS_PER_PAGE = 50;

export async function activityPage(c: PortalContext): Promise<Response> {
  const cursor = c.req.query("cursor");
  const audit = await listAudit(portalOperation(c), {
    consumer_id: consumer(c).id,
    limit: ROWS_PER_PAGE,
    cursor: cursor === undefined || cursor === "" ? undefined : cursor.slice(0, 20),
  });
  return page(
    c,
    { title: "Activity", active: "/activity" },
    <>
      <h1>Activity</h1>
      <p class="lede">Every change to your keys and your account: yours, and your platform's.</p>
      <PortalAuditTable c={c} entries={audit.entries} />
      <Pager
        href={audit.next_cursor ? href(c, `/activity?cursor=${encodeURIComponent(audit.next_cursor)}`) : null}
        label="Older rows"
      />
    </>,
  );
}
