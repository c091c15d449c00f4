/** Read the audit log: every change to a key or a consumer, newest first, a page at a time. */
import * as z from "zod";
import { invalidField } from "../http/json-body";
import { auditRowSchema, findAuditPage } from "../audit/audit-log";
import { consumerScope, type KeyActor } from "./actor";
import { ProblemError } from "../http/problem";
import type { OperationContext } from "./context";
import type { listAuditQuery } from "./schemas";

export type ListAuditInput = z.output<typeof listAuditQuery>;

/** One page of audit rows, and the cursor of the next (null on the last page). */
export const listAuditResult = z.object({ entries: z.array(auditRowSchema), next_cursor: z.string().nullable() });
export type ListAuditResult = z.output<typeof listAuditResult>;

export async function listAudit(ctx: OperationContext<KeyActor>, input: ListAuditInput): Promise<ListAuditResult> {
  // The log spans every consumer: an actor limited to some (a portal session) reads one of its own at a time.
  const scope = consumerScope(ctx.actor);
  if (scope !== null && (input.consumer_id === undefined || !scope.includes(input.consumer_id))) {
    throw new ProblemError("consumer_not_found");
  }
  let cursor: number | undefined;
  if (input.cursor !== undefined) {
    if (!/^[1-9][0-9]{0,15}$/.test(input.cursor)) throw invalidField("cursor", "not a cursor from a previous page");
    cursor = Number(input.cursor);
  }
  const { entries, nextCursor } = await findAuditPage(ctx.env.DB, {
    keyId: input.key_id,
    consumerId: input.consumer_id,
    limit: input.limit,
    cursor,
  });
  return { entries, next_cursor: nextCursor === null ? null : String(nextCursor) };
}
