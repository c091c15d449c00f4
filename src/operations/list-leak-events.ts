/**
 * List leak events (reports of keys found where they should not be), newest first, a page at a time, with
 * the time each took from report to revocation. A narrow principal sees only its consumers' keys' events.
 */
import * as z from "zod";
import { findLeakEventsPage, LEAK_OUTCOMES } from "../leaks/events";
import { consumerScope, type AdminActor } from "./actor";
import type { OperationContext } from "./context";
import type { listLeakEventsQuery } from "./schemas";
import { isoTime, isoTimeOrNull } from "../util/time";

const leakEventViewSchema = z.object({
  id: z.int(),
  key_id: z.string().nullable(),
  consumer_id: z.string().nullable(),
  source: z.enum(["github", "gitleaks", "trufflehog", "scanner", "gateway_query"]),
  location: z.string().nullable(),
  outcome: z.enum(LEAK_OUTCOMES),
  reported_at: z.iso.datetime(),
  revoked_at: z.iso.datetime().nullable(),
  /** From the report to the revocation in force everywhere; null unless this report revoked the key. */
  time_to_revocation_ms: z.int().nullable(),
});

/** One page of leak events, and the cursor of the next (null on the last page). */
export const listLeakEventsResult = z.object({
  events: z.array(leakEventViewSchema),
  next_cursor: z.string().nullable(),
});
export type ListLeakEventsResult = z.output<typeof listLeakEventsResult>;

export async function listLeakEvents(
  ctx: OperationContext<AdminActor>,
  input: z.output<typeof listLeakEventsQuery>,
): Promise<ListLeakEventsResult> {
  const rows = await findLeakEventsPage(ctx.env.DB, {
    keyId: input.key_id,
    before: input.cursor === undefined ? undefined : Number(input.cursor),
    limit: input.limit + 1,
    consumers: consumerScope(ctx.actor),
  });
  const page = rows.slice(0, input.limit);
  return {
    events: page.map((r) => ({
      id: r.id,
      key_id: r.key_id,
      consumer_id: r.consumer_id,
      source: r.source,
      location: r.location,
      outcome: r.outcome,
      reported_at: isoTime(r.reported_at),
      revoked_at: isoTimeOrNull(r.revoked_at),
      time_to_revocation_ms:
        r.outcome === "revoked" && r.revoked_at !== null ? Math.max(0, r.revoked_at - r.reported_at) : null,
    })),
    next_cursor: rows.length > input.limit ? String(page[page.length - 1]!.id) : null,
  };
}
