/**
 * Open a consumer's self-service portal: a one-time link (src/portal/link-store.ts) that its platform's backend
 * hands to the consumer's signed-in user. Its first visit exchanges it for a portal session that ends when the
 * link would have; the link then opens nothing. A disabled consumer's portal opens read-only.
 */
import * as z from "zod";
import { ProblemError } from "../http/problem";
import { insertPortalLink } from "../portal/link-store";
import { clock } from "../util/clock";
import { isoTime, MINUTE_MS } from "../util/time";
import { actorName, type AdminActor } from "./actor";
import { requireConsumer } from "./consumer-lookup";
import { auditEntry, type OperationContext } from "./context";
import type { createPortalSessionSchema } from "./schemas";

export type CreatePortalSessionInput = z.output<typeof createPortalSessionSchema>;

/** The link (its token is in this response only) and when it, and the session it opens, end. */
export const createPortalSessionResult = z.object({ url: z.string(), expires_at: z.iso.datetime() });
export type CreatePortalSessionResult = z.output<typeof createPortalSessionResult>;

/**
 * `portalUrl` is where the portal is served (the console's host or prefix, then /portal), or null when the
 * console is off: 409 `portal_unavailable`, and nothing is written.
 */
export async function createPortalSession(
  ctx: OperationContext<AdminActor>,
  input: CreatePortalSessionInput,
  portalUrl: string | null,
): Promise<CreatePortalSessionResult> {
  const consumer = await requireConsumer(ctx, input.consumer_id, { deletedIsGone: true });
  if (portalUrl === null) throw new ProblemError("portal_unavailable");
  const now = clock.now();
  const expiresAt = now + input.ttl_minutes * MINUTE_MS;
  const returnUrl = input.return_url ?? null;
  const { token } = await insertPortalLink(
    ctx.env.DB,
    { consumerId: consumer.record.id, returnUrl, createdBy: actorName(ctx.actor), now, expiresAt },
    () =>
      auditEntry(ctx, "create", now, {
        consumer_id: consumer.record.id,
        expires_at: isoTime(expiresAt),
        return_url: returnUrl,
      }),
  );
  return { url: `${portalUrl}/link/${token}`, expires_at: isoTime(expiresAt) };
}
