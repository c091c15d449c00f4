/** Read the audit log: every change to a key or a consumer, newest first, a page at a time. */
import * as z from "zod";
import { invalidField } from "../http/json-body";
import { auditRowSchema, findAuditPage } from "../audit/audit-log";
import type { AdminActor } from "./actor";
import type { OperationContext } from "./context";
import type { listAuditQuery } from "./schemas";

export type ListAuditInput = z.output<typeof listAuditQuery>;

/** One page of audit rows, and the cursor of the next (null on the last page). */
export const listAuditResult = z.object({ entries: z.array(auditRowSchema), next_cursor: z.string().nullable() });
export type ListAuditResult = z.output<typeof listAuditResult>;

export async function listAudit(ctx: OperationContext<AdminActor>, input: ListAuditInput): Promise<ListAuditResult> {
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
