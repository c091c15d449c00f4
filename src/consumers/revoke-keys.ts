/**
 * Revoking every key of a consumer (POST /admin/v1/consumers/{id}/revoke-keys). The call itself only sets
 * the consumer's `keys_revoked_before` through the consumer-change protocol: from the moment it returns, the
 * consumer's object refuses every key created at or before that time, however many there are. The per-key
 * revocations (D1 status and audit row, KV) then complete here, in batches, from the consumer object's
 * alarm: resumable (each batch picks the keys not yet revoked) and idempotent, with the progress kept on the
 * consumer row (`revoke_progress`). A batch that fails is retried by the alarm; until it succeeds the keys
 * stay refused by the consumer. `keys_revoked_before` is never cleared (enable does not touch it), so the
 * keys' own objects are not called: 10,000 keys would be 10,000 object calls for no change in any decision.
 * An object that still holds such a key as active learns otherwise at its safety refresh (STATE_REFRESH_MS).
 */
import type { AuditEntry } from "../audit/audit-log";
import { purgeKey } from "../keys/lookup";
import { revokeConsumerKeysBatch, type BatchRevokedKey } from "../keys/store";
import { clock } from "../util/clock";
import { log } from "../util/log";

/** Keys per D1 batch: each key also costs a KV delete. */
export const REVOKE_BATCH_SIZE = 100;
/** Batches per alarm run: about 420 subrequests, well within a Worker invocation's limit of 1,000. */
const BATCHES_PER_RUN = 4;

/** Who asked, for the keys' audit rows, and how far the job has got. */
interface RevokeProgress {
  actor: string;
  request_id: string;
  /** Keys to revoke when the call was made. */
  total: number;
  /** Keys not revoked yet (so `total - remaining` are done). */
  remaining: number;
  done_at: number | null;
}

interface Job {
  keys_revoked_before: number | null;
  revoke_reason: string | null;
  revoke_progress: string | null;
}

/** Drops a revoked key from KV (and this isolate's key caches). Best effort: the consumer refuses it anyway. */
async function propagate(env: Cloudflare.Env, key: BatchRevokedKey): Promise<void> {
  try {
    await purgeKey(env.KEY_CACHE, key.key_hash);
  } catch (error) {
    log("warn", "consumer.revoke_propagation_failed", { key_id: key.id, error: (error as Error).name });
  }
}

/** One run of the job: up to BATCHES_PER_RUN batches. Answers how many keys are left to revoke. */
export async function runRevokeKeys(env: Cloudflare.Env, consumerId: string): Promise<number> {
  const job = await env.DB.prepare(
    "SELECT keys_revoked_before, revoke_reason, revoke_progress FROM consumers WHERE id = ?",
  )
    .bind(consumerId)
    .first<Job>();
  if (!job || job.keys_revoked_before === null || job.revoke_progress === null) return 0;
  const progress = JSON.parse(job.revoke_progress) as RevokeProgress;
  for (let i = 0; i < BATCHES_PER_RUN; i++) {
    const audit: AuditEntry = {
      actor: progress.actor,
      action: "revoke",
      requestId: progress.request_id,
      at: clock.now(),
      changes: { status: "revoked", reason: job.revoke_reason, via: "revoke-keys" },
    };
    const keys = await revokeConsumerKeysBatch(
      env.DB,
      consumerId,
      job.keys_revoked_before,
      job.revoke_reason,
      REVOKE_BATCH_SIZE,
      audit,
    );
    if (keys.length === 0) break;
    await Promise.all(keys.map((key) => propagate(env, key)));
  }
  const left = await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM api_keys WHERE owner_id = ?1 AND created_at <= ?2 AND status != 'revoked'",
  )
    .bind(consumerId, job.keys_revoked_before)
    .first<{ n: number }>();
  progress.remaining = Math.min(progress.total, left?.n ?? 0);
  progress.done_at = progress.remaining === 0 ? clock.now() : null;
  await env.DB.prepare("UPDATE consumers SET revoke_progress = ?2 WHERE id = ?1")
    .bind(consumerId, JSON.stringify(progress))
    .run();
  return progress.remaining;
}
