/**
 * What the consumer's Durable Object needs of a consumer: its live state, read from D1 (the consumer's
 * record and every write are in ./store.ts).
 */
import type { RateLimit } from "../keys/key-record";

export interface ConsumerState {
  id: string;
  status: "active" | "disabled" | "deleted";
  rate_limits: RateLimit[];
  /** Every key of the consumer created at or before this time is refused (revoke-keys); null if none ran. */
  keys_revoked_before: number | null;
  version: number;
}

/** The consumer's live state by id; null if there is no consumer row. */
export async function findConsumerState(db: D1Database, id: string): Promise<ConsumerState | null> {
  const row = await db
    .prepare("SELECT id, status, rate_limits, keys_revoked_before, version FROM consumers WHERE id = ?")
    .bind(id)
    .first<Omit<ConsumerState, "rate_limits"> & { rate_limits: string }>();
  return row ? { ...row, rate_limits: JSON.parse(row.rate_limits) } : null;
}
