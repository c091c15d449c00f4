/**
 * GET /consumers/{id}: a consumer's shared limits, key policy, keys and usage; disable, enable, and revoke
 * all its keys behind a confirmation that names how many.
 */
import { validate } from "../../http/json-body";
import { revokeKeySchema } from "../../operations/schemas";
import { CONSUMER_ID_PATTERN } from "../../consumers/consumer-record";
import type { KeyView } from "../../keys/key-record";
import { getConsumer } from "../../operations/get-consumer";
import { getConsumerLimits } from "../../operations/get-limits";
import { listConsumerKeys } from "../../operations/list-consumer-keys";
import { revokeConsumerKeys } from "../../operations/revoke-consumer-keys";
import { disableConsumer, enableConsumer } from "../../operations/set-consumer-status";
import { getConsumerUsage } from "../../operations/usage";
import type { AdminActor } from "../../operations/actor";
import type { OperationContext } from "../../operations/context";
import {
  can,
  type ConsoleContext,
  ConsoleRefusal,
  consoleOperation,
  href,
  requirePermission,
  session,
} from "../context";
import { readProtectedForm } from "../forms";
import { ActionButton, Badge, Csrf, Empty, Field, formatTime } from "../layout";
import { page } from "../render";
import { LimitsTable } from "../limits-table";
import { UsageChart } from "../usage-chart";
import { Table } from "../components/table";

function consumerIdOf(c: ConsoleContext): string {
  const id = c.req.param("id") ?? "";
  if (!CONSUMER_ID_PATTERN.test(id)) throw new ConsoleRefusal(404, "Consumer not found", "No consumer has this id.");
  return id;
}

/** Pages of keys read to count the ones a revoke-all would revoke: beyond this the count is "at least". */
const MAX_COUNT_PAGES = 10;

/** The consumer's keys that are not revoked yet (what revoke-all revokes), up to MAX_COUNT_PAGES pages. */
async function unrevokedKeys(
  ctx: OperationContext<AdminActor>,
  id: string,
): Promise<{ keys: KeyView[]; more: boolean }> {
  const keys: KeyView[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < MAX_COUNT_PAGES; i++) {
    const pageOfKeys = await listConsumerKeys(ctx, id, { limit: 100, cursor });
    keys.push(...pageOfKeys.keys.filter((k) => k.status !== "revoked"));
    if (pageOfKeys.next_cursor === null) return { keys, more: false };
    cursor = pageOfKeys.next_cursor;
  }
  return { keys, more: true };
}

export async function consumerPage(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "consumers:read");
  const id = consumerIdOf(c);
  const ctx = consoleOperation(c);
  const consumer = await getConsumer(ctx, id);
  const [limits, keys, usage] = await Promise.all([
    getConsumerLimits(ctx, id),
    can(c, "keys:read") ? listConsumerKeys(ctx, id, { limit: 50 }) : null,
    can(c, "usage:read") ? getConsumerUsage(ctx, id, { granularity: "day" }) : null,
  ]);
  const csrf = session(c).csrfToken;
  const policy = consumer.key_policy;
  const notice = c.req.query("done");
  return page(
    c,
    { title: consumer.id, active: "/consumers", charts: true },
    <>
      <p class="crumbs">
        <a href={href(c, "/consumers")}>Consumers</a> / {consumer.id}
      </p>
      {notice ? (
        <div class="notice success" role="status">
          {notice === "revoked_keys" ? "Every key of this consumer is being revoked." : `The consumer is ${notice}.`}
        </div>
      ) : null}
      <div class="head">
        <h1>
          {consumer.name || consumer.id} <Badge status={consumer.status} />
        </h1>
        <div class="actions">
          {can(c, "keys:create") && consumer.status === "active" ? (
            <a class="button" href={href(c, `/keys/new?owner_id=${encodeURIComponent(id)}`)}>
              Create key
            </a>
          ) : null}
          {can(c, "consumers:write") && consumer.status === "active" ? (
            <ActionButton
              action={href(c, `/consumers/${encodeURIComponent(id)}/disable`)}
              csrf={csrf}
              label="Disable consumer"
              kind="secondary"
            />
          ) : null}
          {can(c, "consumers:write") && consumer.status === "disabled" ? (
            <ActionButton
              action={href(c, `/consumers/${encodeURIComponent(id)}/enable`)}
              csrf={csrf}
              label="Enable consumer"
              kind="secondary"
            />
          ) : null}
          {can(c, "consumers:write") && consumer.status !== "deleted" ? (
            <a class="button danger" href={href(c, `/consumers/${encodeURIComponent(id)}/revoke-keys`)}>
              Revoke all keys
            </a>
          ) : null}
        </div>
      </div>
      <section class="panel">
        <h2>Shared limits and key policy</h2>
        <dl class="props">
          <dt>Shared limits</dt>
          <dd>
            {consumer.rate_limits.length === 0
              ? "none: each key's own limits only"
              : consumer.rate_limits.map((l) => `${l.name}: ${l.limit} per ${l.window_seconds} s`).join("; ")}
          </dd>
          <dt>Max active keys</dt>
          <dd>{policy.max_active_keys ?? "no limit"}</dd>
          <dt>Allowed scopes</dt>
          <dd>{policy.allowed_scopes?.join(", ") ?? "any"}</dd>
          <dt>Allowed types</dt>
          <dd>{policy.allowed_types?.join(", ") ?? "any"}</dd>
          <dt>Allowed environments</dt>
          <dd>{policy.allowed_environments?.join(", ") ?? "any"}</dd>
          <dt>Max lifetime</dt>
          <dd>{policy.max_lifetime_days === undefined ? "the deployment's" : `${policy.max_lifetime_days} days`}</dd>
          <dt>Created</dt>
          <dd>{formatTime(consumer.created_at)}</dd>
          {consumer.revoke_progress ? (
            <>
              <dt>Last revoke-all</dt>
              <dd>
                {consumer.revoke_progress.total - consumer.revoke_progress.remaining} of{" "}
                {consumer.revoke_progress.total} revoked
                {consumer.revoke_progress.done_at ? ` (done ${formatTime(consumer.revoke_progress.done_at)})` : ""}
              </dd>
            </>
          ) : null}
        </dl>
      </section>
      <h2>Shared limits now</h2>
      <LimitsTable limits={limits.limits} />
      <h2>Usage, last 30 days</h2>
      {usage && "days" in usage ? (
        <UsageChart id="consumer-usage" caption="Decisions per day by outcome, all keys" days={usage.days} />
      ) : (
        <Empty>Usage needs usage:read.</Empty>
      )}
      <h2>Keys</h2>
      {keys === null || keys.keys.length === 0 ? (
        <Empty>No keys.</Empty>
      ) : (
        <Table columns={["Name", "Key", "Env", "Status", "Expires"]}>
          {keys.keys.map((k) => (
            <tr>
              <td>
                <a href={href(c, `/keys/${k.id}`)}>{k.name || "(unnamed)"}</a>
              </td>
              <td class="mono">
                {k.prefix}…{k.hint}
              </td>
              <td>{k.environment}</td>
              <td>
                <Badge status={k.status} />
              </td>
              <td>{formatTime(k.expires_at)}</td>
            </tr>
          ))}
        </Table>
      )}
    </>,
  );
}

export function consumerStatusAction(action: "disable" | "enable") {
  return async function changeConsumerStatus(c: ConsoleContext): Promise<Response> {
    requirePermission(c, "consumers:write");
    const id = consumerIdOf(c);
    await readProtectedForm(c);
    await (action === "disable" ? disableConsumer : enableConsumer)(consoleOperation(c), id);
    return c.redirect(href(c, `/consumers/${encodeURIComponent(id)}?done=${action}d`), 303);
  };
}

export async function revokeConsumerKeysPage(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "consumers:write");
  const id = consumerIdOf(c);
  const ctx = consoleOperation(c);
  const consumer = await getConsumer(ctx, id);
  const { keys, more } = await unrevokedKeys(ctx, id);
  const count = `${more ? "at least " : ""}${keys.length.toLocaleString("en-US")} key${keys.length === 1 ? "" : "s"}`;
  return page(
    c,
    { title: "Revoke all keys", active: "/consumers" },
    <>
      <p class="crumbs">
        <a href={href(c, "/consumers")}>Consumers</a> /{" "}
        <a href={href(c, `/consumers/${encodeURIComponent(id)}`)}>{id}</a> / Revoke all keys
      </p>
      <h1>Revoke all keys of {consumer.name || consumer.id}</h1>
      <div class="notice warning">
        This revokes <strong data-revoke-count={String(keys.length)}>{count}</strong> of this consumer, everywhere, for
        good. Keys created afterwards are not affected.
      </div>
      <form method="post" action={href(c, `/consumers/${encodeURIComponent(id)}/revoke-keys`)} class="stack">
        <Csrf token={session(c).csrfToken} />
        <Field name="reason" label="Reason" hint="Recorded on each key's audit row.">
          <input type="text" id="f-reason" name="reason" />
        </Field>
        <div class="actions">
          <button type="submit" class="danger">
            Revoke {count}
          </button>
          <a href={href(c, `/consumers/${encodeURIComponent(id)}`)}>Cancel</a>
        </div>
      </form>
    </>,
  );
}

export async function revokeConsumerKeysAction(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "consumers:write");
  const id = consumerIdOf(c);
  const fields = await readProtectedForm(c);
  const reason = (fields.reason ?? "").trim();
  await revokeConsumerKeys(consoleOperation(c), id, validate(revokeKeySchema, reason === "" ? {} : { reason }));
  return c.redirect(href(c, `/consumers/${encodeURIComponent(id)}?done=revoked_keys`), 303);
}
