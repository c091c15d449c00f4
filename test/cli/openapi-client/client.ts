/**
 * A small admin client typed only by the types openapi-typescript generates from the served OpenAPI document
 * (`./admin-api.ts`, written beside this file by test/cli/openapi-client.test.mjs, which then runs `tsc` on
 * both and runs this against the Worker). Every `@ts-expect-error` is a wrong use the document's result
 * schemas must refuse: were a success answer typed as a bare object again (`Record<string, never>`, whose
 * fields are all `never`), those lines would compile and tsc would fail on the unused directives.
 */
import type { paths } from "./admin-api.ts";

type Json<T> = T extends { content: { "application/json": infer Body } } ? Body : never;
type Answer<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends {
  responses: infer R;
}
  ? S extends keyof R
    ? Json<R[S]>
    : never
  : never;
type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { requestBody?: infer R }
  ? Json<NonNullable<R>>
  : never;

type Created = Answer<"/keys", "post", 201>;
type KeyPage = Answer<"/keys", "get", 200>;
type Key = Answer<"/keys/{id}", "get", 200>;
type Rotated = Answer<"/keys/{id}/rotate", "post", 201>;
type AuditPage = Answer<"/audit", "get", 200>;
type Ingested = Answer<"/leaks/scanner", "post", 200>;
type KeyUsage = Answer<"/keys/{id}/usage", "get", 200>;
type Usage = Answer<"/usage", "get", 200>;
type ConsumerUsage = Answer<"/consumers/{id}/usage", "get", 200>;
type AlertPage = Answer<"/alerts", "get", 200>;
type Report = Answer<"/report", "get", 200>;
type Consumer = Answer<"/consumers/{id}", "get", 200>;
type ConsumerPage = Answer<"/consumers", "get", 200>;

// Run by node, given the Worker's URL and the admin token; no Node types are needed for one global.
declare const process: { argv: string[] };
const [base, token] = process.argv.slice(2) as [string, string];

async function call<T>(method: "GET" | "POST" | "PATCH", path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}/admin/v1${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const create: Body<"/keys", "post"> = { owner_id: "openapi-client", scopes: ["read"] };
// @ts-expect-error the create body takes no status
const withStatus: Body<"/keys", "post"> = { owner_id: "x", status: "active" };

const created = await call<Created>("POST", "/keys", create);
const secret: string = created.api_key;
const id: string = created.key.id;
const status: "active" | "disabled" | "revoked" | "expired" = created.key.status;
// @ts-expect-error the secret is a string
const secretAsNumber: number = created.api_key;
// @ts-expect-error the key view never holds the hash
const hash: string = created.key.key_hash;
// @ts-expect-error a key's status is one of four
const unknownStatus: "deleted" = created.key.status;

const page = await call<KeyPage>("GET", "/keys?owner_id=openapi-client&limit=1");
const listed: string | undefined = page.keys[0]?.id;
const cursor: string | null = page.next_cursor;
// @ts-expect-error the last page has no cursor
const alwaysCursor: string = page.next_cursor;
// @ts-expect-error keys is a list
const keysAsRecord: Record<string, Key> = page.keys;

const updated = await call<Key>("PATCH", `/keys/${id}`, { name: "renamed" } satisfies Body<"/keys/{id}", "patch">);
const name: string = updated.name;
const usageCount: number = updated.usage_count;
const revokedAt: string | null = updated.revoked_at;
// @ts-expect-error revoked_at is null until the key is revoked
const alwaysRevokedAt: string = updated.revoked_at;

const rotated = await call<Rotated>("POST", `/keys/${id}/rotate`, { grace_period_hours: 1 });
const successor: string = rotated.key.id;
// null for a rotation with defer_grace (its grace starts with start-grace)
const graceUntil: string | null = rotated.previous.grace_until;
// @ts-expect-error previous is an object
const previousAsId: string = rotated.previous;

const revoked = await call<Key>("POST", `/keys/${successor}/revoke`, { reason: "openapi client test" });
const reason: string | null = revoked.revoke_reason;

const audit = await call<AuditPage>("GET", `/audit?key_id=${id}`);
type AuditAction =
  | "create"
  | "update"
  | "disable"
  | "enable"
  | "revoke"
  | "rotate"
  | "start_grace"
  | "revoke_keys"
  | "delete";
const actions: AuditAction[] = audit.entries.map((e) => e.action);
const subjects: ("key" | "consumer" | "credential" | "portal_session")[] = audit.entries.map((e) => e.subject_type);
const keyIds: (string | null)[] = audit.entries.map((e) => e.key_id);
// @ts-expect-error an audit row's id is a number
const auditId: string = audit.entries[0]!.id;

const ingested = await call<Ingested>("POST", "/leaks/scanner", {
  findings: [{ key_hash: "0".repeat(64), location: "openapi-client.ts:1" }],
});
const noMatch: number = ingested.counts.no_match;
const firstStatus: "revoked" | "already_revoked" | "recorded" | "no_match" | "not_a_key" | undefined =
  ingested.results[0]?.status;
// @ts-expect-error counts has no such status
const unknownCount: number = ingested.counts.deleted;

const usage = await call<KeyUsage>("GET", `/keys/${id}/usage`);
const days: number = usage.granularity === "day" ? usage.days.length : -1;
const keyOfUsage: string = usage.key_id;
// @ts-expect-error a key's usage is per day or per hour: its granularity tells which
const keyDays: { day: string }[] = usage.days;
const hourly = await call<KeyUsage>("GET", `/keys/${id}/usage?granularity=hour&hours=6`);
const hours: string[] = hourly.granularity === "hour" ? hourly.hours.map((h) => h.hour) : [];
const searched = await call<KeyPage>("GET", `/keys?q=${encodeURIComponent(created.key.hint)}&owner_id=openapi-client`);
const found: string[] = searched.keys.map((k) => k.id);

const grouped = await call<Usage>("GET", "/usage?group_by=consumer");
const groupedConsumers: number = "consumers" in grouped ? grouped.consumers.length : -1;
// @ts-expect-error GET /usage answers totals or a page of consumers: the caller tells which
const alwaysDays: { day: string }[] = grouped.days;
const consumerOfUsage = (u: ConsumerUsage): string => u.consumer_id;

const alerts = await call<AlertPage>("GET", "/alerts?status=open");
const alertRules: ("new_network" | "traffic_spike" | "refusal_burst" | "revoked_key_use" | "consumer_traffic_spike")[] =
  alerts.alerts.map((a) => a.rule);
// @ts-expect-error a consumer-wide alert has no key
const alwaysKey: string | undefined = alerts.alerts[0]?.key_id;

const newConsumer: Body<"/consumers", "post"> = { id: "openapi-consumer", key_policy: { max_active_keys: 2 } };
// @ts-expect-error a consumer's status is not set by a create
const consumerWithStatus: Body<"/consumers", "post"> = { id: "x", status: "active" };
const consumer = await call<Consumer>("POST", "/consumers", newConsumer);
const maxActiveKeys: number | undefined = consumer.key_policy.max_active_keys;
// @ts-expect-error a consumer's status is one of three
const consumerStatus: "revoked" = consumer.status;
const consumers = await call<ConsumerPage>("GET", "/consumers?id=openapi-consumer");
const consumerListed: string | undefined = consumers.consumers[0]?.id;

const report = await call<Report>("GET", "/report?format=json");
const activeKeys: number = report.active_keys;
const controls: string[] = report.controls.map((c) => c.control);
// @ts-expect-error the mean is null without revocations
const mean: number = report.leaks.mean_report_to_revocation_ms;

console.log(
  JSON.stringify({
    secret: secret.length > 0,
    id,
    status,
    listed,
    cursor,
    name,
    usageCount,
    revokedAt,
    successor,
    graceUntil,
    reason,
    actions,
    subjects,
    keyIds,
    noMatch,
    firstStatus,
    days,
    keyOfUsage,
    hours,
    found,
    groupedConsumers,
    alertRules,
    activeKeys,
    controls: controls.length,
    maxActiveKeys,
    consumerListed,
  }),
);
void [
  withStatus,
  secretAsNumber,
  hash,
  unknownStatus,
  alwaysCursor,
  keysAsRecord,
  alwaysRevokedAt,
  previousAsId,
  auditId,
  unknownCount,
  alwaysDays,
  keyDays,
  consumerOfUsage,
  alwaysKey,
  mean,
  consumerWithStatus,
  consumerStatus,
];
