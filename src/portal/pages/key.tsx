/** GET /keys/{id}: one of the consumer's keys: its settings, limits, 30-day usage and trail, with its actions. */
import { Badge, formatTime } from "../../console/layout";
import { UsageChart } from "../../console/usage-chart";
import { KeySettings, keyIdParam } from "../../console/components/key-settings";
import { getKey } from "../../operations/get-key";
import { getKeyLimits } from "../../operations/get-limits";
import { listAudit } from "../../operations/list-audit";
import { getKeyUsage } from "../../operations/usage";
import { PortalAuditTable } from "../audit-table";
import { consumer, href, type PortalContext, portalOperation, readOnly } from "../context";
import { page } from "../render";
import { LimitsTable } from "../../console/limits-table";

/** The `:id` of a key page; an id no key can have is simply not found, as is another consumer's key. */
export const keyIdOf = (c: PortalContext) => keyIdParam(c.req.param("id"), "You have no key with this id.");

export async function keyPage(c: PortalContext): Promise<Response> {
  const id = keyIdOf(c);
  const ctx = portalOperation(c);
  const k = await getKey(ctx, id); // 404 for another consumer's key: the grant holds this consumer only
  const [limits, usage, audit] = await Promise.all([
    getKeyLimits(ctx, id),
    getKeyUsage(ctx, id, { granularity: "day" }),
    listAudit(ctx, { key_id: id, consumer_id: consumer(c).id, limit: 20 }),
  ]);
  // A disabled key (its platform disabled it) can be revoked, not rotated.
  const live = k.status === "active" || k.status === "disabled";
  return page(
    c,
    { title: k.name || "Key", active: "/", charts: true },
    <>
      <p class="crumbs">
        <a href={href(c, "/")}>Your keys</a> / {id}
      </p>
      <div class="head">
        <h1>
          {k.name || "Key"} <Badge status={k.status} />
        </h1>
        {live && !readOnly(c) ? (
          <div class="actions">
            {k.status === "active" && k.rotated_to === null ? (
              <a class="button secondary" href={href(c, `/keys/${id}/rotate`)}>
                Rotate key
              </a>
            ) : null}
            <a class="button danger" href={href(c, `/keys/${id}/revoke`)}>
              Revoke key
            </a>
          </div>
        ) : null}
      </div>
      <section class="panel" aria-labelledby="settings-title">
        <h2 id="settings-title">Settings</h2>
        <KeySettings k={k}>
          {k.grace_until ? (
            <>
              <dt>Works until (rotated)</dt>
              <dd>{formatTime(k.grace_until)}</dd>
            </>
          ) : null}
          {k.rotated_to ? (
            <>
              <dt>Replaced by</dt>
              <dd>
                <a class="mono" href={href(c, `/keys/${k.rotated_to}`)}>
                  {k.rotated_to}
                </a>
              </dd>
            </>
          ) : null}
          {k.revoked_at ? (
            <>
              <dt>Revoked</dt>
              <dd>
                {formatTime(k.revoked_at)}
                {k.revoke_reason ? `: ${k.revoke_reason}` : ""}
              </dd>
            </>
          ) : null}
          <dt>Last used</dt>
          <dd>{formatTime(k.last_used_at)}</dd>
        </KeySettings>
      </section>
      <section class="panel" aria-labelledby="limits-title">
        <h2 id="limits-title">Rate limits</h2>
        <p class="lede">What is left of each now: reading it spends nothing.</p>
        <LimitsTable limits={limits.limits} />
      </section>
      <h2>Usage, last 30 days</h2>
      {"days" in usage ? <UsageChart id="key-usage" caption="Requests per day by outcome" days={usage.days} /> : null}
      <h2>Activity</h2>
      <PortalAuditTable c={c} entries={audit.entries} />
    </>,
  );
}
