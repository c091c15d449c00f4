/**
 * What the consumer tests share (test/admin/*-consumer*.test.ts, test/consumers/): consumers made and read
 * through the real admin API, their rows, and a snapshot of everything a refused call could have changed.
 */
import { env } from "cloudflare:workers";
import type { ConsumerView } from "../../src/consumers/consumer-record";
import { admin } from "../helpers";

/** A consumer id no other test uses. */
export const newConsumerId = (label = "c") => `${label}-${crypto.randomUUID().slice(0, 8)}`;

/** Creates a consumer through POST /admin/v1/consumers; fails the test if the API refuses. */
export async function makeConsumer(body: Record<string, unknown> = {}): Promise<ConsumerView> {
  const res = await admin("/consumers", { json: { id: newConsumerId(), ...body } });
  if (res.status !== 201) throw new Error(`consumer create failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as ConsumerView;
}

export const getConsumer = (id: string) => admin(`/consumers/${encodeURIComponent(id)}`, { method: "GET" });
export const patchConsumer = (id: string, json: unknown) =>
  admin(`/consumers/${encodeURIComponent(id)}`, { method: "PATCH", json });
export const deleteConsumer = (id: string) => admin(`/consumers/${encodeURIComponent(id)}`, { method: "DELETE" });

/** The stored row of a consumer (null if none). */
export const consumerRow = (id: string) =>
  env.DB.prepare("SELECT * FROM consumers WHERE id = ?").bind(id).first<Record<string, unknown>>();

/** Sets a consumer's stored status, as the disable and enable routes (not part of these tests) would. */
export const setConsumerStatus = (id: string, status: "active" | "disabled" | "deleted") =>
  env.DB.prepare("UPDATE consumers SET status = ?, version = version + 1 WHERE id = ?").bind(status, id).run();

interface AuditRowOfConsumer {
  action: string;
  actor: string;
  subject_type: string;
  subject_id: string;
  consumer_id: string | null;
  changes: Record<string, unknown>;
}

/** The audit rows whose subject is this consumer, oldest first. */
export async function consumerAudit(id: string): Promise<AuditRowOfConsumer[]> {
  const { results } = await env.DB.prepare(
    "SELECT * FROM audit_log WHERE subject_type = 'consumer' AND subject_id = ? ORDER BY id",
  )
    .bind(id)
    .all<Omit<AuditRowOfConsumer, "changes"> & { changes: string }>();
  return results.map((r) => ({ ...r, changes: JSON.parse(r.changes) as Record<string, unknown> }));
}

/** Everything a refused consumer or key call could change: consumers, keys, and the audit log's size. */
export async function consumerSnapshot(): Promise<string> {
  const consumers = await env.DB.prepare("SELECT * FROM consumers ORDER BY id").all();
  const keys = await env.DB.prepare(
    "SELECT id, status, version, owner_id, rotated_to, grace_until FROM api_keys ORDER BY id",
  ).all();
  const audit = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log").first<{ n: number }>();
  return JSON.stringify({ consumers: consumers.results, keys: keys.results, audit: audit?.n });
}
