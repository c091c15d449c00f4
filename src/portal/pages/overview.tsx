/**
 * GET /: the consumer's keys, what its platform allows it to mint (its key policy), its shared limits and its
 * usage over the last 30 days.
 */
import { Badge, Empty, formatNumber, formatTime } from "../../console/layout";
import { UsageChart } from "../../console/usage-chart";
import type { KeyPolicy } from "../../consumers/consumer-record";
import { getConsumerLimits } from "../../operations/get-limits";
import { listConsumerKeys } from "../../operations/list-consumer-keys";
import { getConsumerUsage } from "../../operations/usage";
import { consumer, href, type PortalContext, portalOperation, readOnly } from "../context";
import { page } from "../render";
import { LimitsTable } from "../../console/limits-table";
import { Table } from "../../console/components/table";

/** The most keys one page lists: a consumer manages a handful; the platform's console pages the rest. */
const KEYS_SHOWN = 100;

const list = (items: readonly string[] | undefined, none: string) =>
  items === undefined ? none : items.join(", ") || "none";

function PolicySummary({ policy }: { policy: KeyPolicy }) {
  return (
    <dl class="props">
      <dt>Scopes</dt>
      <dd>{list(policy.allowed_scopes, "any")}</dd>
      <dt>Types</dt>
      <dd>{list(policy.allowed_types, "secret, publishable")}</dd>
      <dt>Environments</dt>
      <dd>{list(policy.allowed_environments, "live, test")}</dd>
      <dt>Longest lifetime</dt>
      <dd>{policy.max_lifetime_days === undefined ? "365 days (the default)" : `${policy.max_lifetime_days} days`}</dd>
      <dt>Longest rotation grace</dt>
      <dd>{policy.max_grace_hours === undefined ? "30 days" : `${policy.max_grace_hours} hours`}</dd>
      <dt>Live keys at once</dt>
      <dd>{policy.max_active_keys === undefined ? "no limit" : formatNumber(policy.max_active_keys)}</dd>
    </dl>
  );
}

export async function overviewPage(c: PortalContext): Promise<Response> {
  const ctx = portalOperation(c);
  const me = consumer(c);
  const [keys, usage, shared] = await Promise.all([
    listConsumerKeys(ctx, me.id, { limit: KEYS_SHOWN }),
    getConsumerUsage(ctx, me.id, { granularity: "day" }),
    getConsumerLimits(ctx, me.id),
  ]);
  return page(
    c,
    { title: "Your keys", active: "/", charts: true },
    <>
      <div class="head">
        <h1>{me.name || me.id}</h1>
        {readOnly(c) ? null : (
          <a class="button" href={href(c, "/keys/new")}>
            Create a key
          </a>
        )}
      </div>
      <h2>Your keys</h2>
      {keys.keys.length === 0 ? (
        <Empty>You have no keys yet.</Empty>
      ) : (
        <Table columns={["Name", "Key", "Environment", "Status", "Expires", "Last used"]}>
          {keys.keys.map((k) => (
            <tr data-key-id={k.id}>
              <td>
                <a href={href(c, `/keys/${k.id}`)}>{k.name || k.id}</a>
              </td>
              <td class="mono">
                {k.prefix}…{k.hint}
              </td>
              <td>{k.environment}</td>
              <td>
                <Badge status={k.status} />
              </td>
              <td>{formatTime(k.expires_at)}</td>
              <td>{formatTime(k.last_used_at)}</td>
            </tr>
          ))}
        </Table>
      )}
      <h2>Usage, last 30 days</h2>
      {"days" in usage ? (
        <UsageChart id="portal-usage" caption="Requests per day by outcome, all your keys" days={usage.days} />
      ) : null}
      <div>
        <section class="panel" aria-labelledby="policy-title">
          <h2 id="policy-title">What you may create</h2>
          <PolicySummary policy={me.key_policy} />
        </section>
        <section class="panel" aria-labelledby="shared-title">
          <h2 id="shared-title">Limits shared by all your keys</h2>
          {shared.limits.length === 0 ? (
            <Empty>No shared limits: each key has its own.</Empty>
          ) : (
            <LimitsTable limits={shared.limits} />
          )}
        </section>
      </div>
    </>,
  );
}
