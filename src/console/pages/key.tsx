/** GET /keys/{id}: a key's settings, limits, 30-day usage and audit trail, with its actions; POST disable/enable. */
import type { KeyView } from "../../keys/key-record";
import { getKey } from "../../operations/get-key";
import { getKeyLimits } from "../../operations/get-limits";
import { listAudit } from "../../operations/list-audit";
import { disableKey, enableKey } from "../../operations/set-key-status";
import { getKeyUsage } from "../../operations/usage";
import { can, type ConsoleContext, consoleOperation, href, requirePermission, session } from "../context";
import { KeySettings, keyIdParam } from "../components/key-settings";
import { readProtectedForm } from "../forms";
import { ActionButton, Badge, Empty, formatTime } from "../layout";
import { page } from "../render";
import { LimitsTable } from "../limits-table";
import { UsageChart } from "../usage-chart";
import { AuditTable } from "./audit";

/** The `:id` of a key page; an id no key can have is simply not found. */
export const keyIdOf = (c: ConsoleContext) => keyIdParam(c.req.param("id"), "No key has this id.");

function KeyProps({ k, c }: { k: KeyView; c: ConsoleContext }) {
  return (
    <KeySettings
      k={k}
      owner={
        <>
          <dt>Consumer</dt>
          <dd>
            <a href={href(c, `/consumers/${encodeURIComponent(k.owner_id)}`)}>{k.owner_id}</a>
          </dd>
        </>
      }
    >
      <dt>Last used</dt>
      <dd>{formatTime(k.last_used_at)}</dd>
      <dt>Requests admitted</dt>
      <dd>{k.usage_count.toLocaleString("en-US")}</dd>
      {k.rotated_to ? (
        <>
          <dt>Rotated to</dt>
          <dd>
            <a href={href(c, `/keys/${k.rotated_to}`)}>{k.rotated_to}</a> (works until {formatTime(k.grace_until)})
          </dd>
        </>
      ) : null}
      {k.rotated_from ? (
        <>
          <dt>Rotated from</dt>
          <dd>
            <a href={href(c, `/keys/${k.rotated_from}`)}>{k.rotated_from}</a>
          </dd>
        </>
      ) : null}
      {k.revoked_at ? (
        <>
          <dt>Revoked</dt>
          <dd>
            {formatTime(k.revoked_at)}
            {k.revoke_reason ? ` — ${k.revoke_reason}` : ""}
          </dd>
        </>
      ) : null}
    </KeySettings>
  );
}

export async function keyPage(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "keys:read");
  const id = keyIdOf(c);
  const ctx = consoleOperation(c);
  const k = await getKey(ctx, id);
  const [limits, usage, audit] = await Promise.all([
    getKeyLimits(ctx, id),
    can(c, "usage:read") ? getKeyUsage(ctx, id, { granularity: "day" }) : null,
    can(c, "audit:read") ? listAudit(ctx, { key_id: id, limit: 50 }) : null,
  ]);
  const csrf = session(c).csrfToken;
  const live = k.status === "active" && k.rotated_to === null;
  const notice = c.req.query("done");
  return page(
    c,
    { title: k.name || k.id, active: "/keys", charts: true },
    <>
      <p class="crumbs">
        <a href={href(c, "/keys")}>Keys</a> / {k.id}
      </p>
      {notice ? (
        <div class="notice success" role="status">
          {notice === "revoked"
            ? "The key is revoked."
            : notice === "updated"
              ? "The key's settings are saved."
              : `The key is ${notice}.`}
        </div>
      ) : null}
      <div class="head">
        <h1>
          {k.name || "(unnamed key)"} <Badge status={k.status} />
        </h1>
        <div class="actions">
          {live && can(c, "keys:rotate") ? (
            <a class="button" href={href(c, `/keys/${id}/rotate`)}>
              Rotate key
            </a>
          ) : null}
          {k.status !== "revoked" && can(c, "keys:create") ? (
            <a class="button secondary" href={href(c, `/keys/${id}/edit`)}>
              Edit settings
            </a>
          ) : null}
          {k.status === "active" && can(c, "keys:revoke") ? (
            <ActionButton action={href(c, `/keys/${id}/disable`)} csrf={csrf} label="Disable key" kind="secondary" />
          ) : null}
          {k.status === "disabled" && can(c, "keys:create") ? (
            <ActionButton action={href(c, `/keys/${id}/enable`)} csrf={csrf} label="Enable key" kind="secondary" />
          ) : null}
          {k.status !== "revoked" && can(c, "keys:revoke") ? (
            <a class="button danger" href={href(c, `/keys/${id}/revoke`)}>
              Revoke key
            </a>
          ) : null}
        </div>
      </div>
      <section class="panel" aria-labelledby="settings-title">
        <h2 id="settings-title">Settings</h2>
        <KeyProps k={k} c={c} />
      </section>
      <section class="panel" aria-labelledby="limits-title">
        <h2 id="limits-title">Rate limits</h2>
        <LimitsTable limits={limits.limits} />
      </section>
      <h2>Usage, last 30 days</h2>
      {usage && "days" in usage ? (
        <UsageChart id="key-usage" caption="Decisions per day by outcome" days={usage.days} />
      ) : (
        <Empty>Usage needs the usage:read permission.</Empty>
      )}
      <h2>Audit trail</h2>
      {audit ? (
        <AuditTable c={c} entries={audit.entries} />
      ) : (
        <Empty>The audit trail needs the audit:read permission.</Empty>
      )}
    </>,
  );
}

/** POST /keys/{id}/disable and /enable. */
export function keyStatusAction(action: "disable" | "enable") {
  return async function changeKeyStatus(c: ConsoleContext): Promise<Response> {
    requirePermission(c, action === "disable" ? "keys:revoke" : "keys:create");
    const id = keyIdOf(c);
    await readProtectedForm(c);
    await (action === "disable" ? disableKey : enableKey)(consoleOperation(c), id);
    return c.redirect(href(c, `/keys/${id}?done=${action}d`), 303);
  };
}
