/** List the admin credentials the actor may see, newest first, a page at a time. */
import * as z from "zod";
import { CREDENTIAL_ID_SOURCE, credentialViewSchema, toCredentialView } from "../credentials/credential-record";
import { findCredentialsPage } from "../credentials/store";
import { clock } from "../util/clock";
import type { AdminActor } from "./actor";
import type { OperationContext } from "./context";
import { maySeeCredential } from "./credential-access";
import { decodeCursor, encodeCursor } from "./cursor";
import type { listCredentialsQuery } from "./schemas";

export const listCredentialsResult = z.object({
  credentials: z.array(credentialViewSchema),
  next_cursor: z.string().nullable(),
});

export async function listCredentials(
  ctx: OperationContext<AdminActor>,
  input: z.output<typeof listCredentialsQuery>,
): Promise<z.output<typeof listCredentialsResult>> {
  const now = clock.now();
  const rows = await findCredentialsPage(ctx.env.DB, {
    limit: input.limit,
    cursor: input.cursor === undefined ? undefined : decodeCursor(input.cursor, CREDENTIAL_ID_SOURCE),
  });
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    // Filtered after the page is read, so a narrow principal's page may hold fewer than `limit`; the cursor
    // still moves on through every row.
    credentials: page.filter((r) => maySeeCredential(ctx.actor, r)).map((r) => toCredentialView(r, now)),
    next_cursor: rows.length > input.limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
  };
}
