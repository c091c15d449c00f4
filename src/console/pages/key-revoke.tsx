/** GET and POST /keys/{id}/revoke: revoke a key for good, with a reason recorded in its audit trail. */
import { validate } from "../../http/json-body";
import { getKey } from "../../operations/get-key";
import { revokeKey } from "../../operations/revoke-key";
import { revokeKeySchema } from "../../operations/schemas";
import { type ConsoleContext, consoleOperation, href, requirePermission, session } from "../context";
import { fieldErrorsOf, type FormFields, readProtectedForm } from "../forms";
import { RevokeForm } from "../components/key-form";
import type { FieldError } from "../layout";
import { page } from "../render";
import { keyIdOf } from "./key";

export async function revokeKeyPage(
  c: ConsoleContext,
  values: FormFields = {},
  errors: FieldError[] = [],
  status = 200,
) {
  requirePermission(c, "keys:revoke");
  const id = keyIdOf(c);
  const k = await getKey(consoleOperation(c), id);
  return page(
    c,
    { title: "Revoke key", active: "/keys", status },
    <>
      <p class="crumbs">
        <a href={href(c, "/keys")}>Keys</a> / <a href={href(c, `/keys/${id}`)}>{id}</a> / Revoke
      </p>
      <RevokeForm
        k={k}
        action={href(c, `/keys/${id}/revoke`)}
        cancelHref={href(c, `/keys/${id}`)}
        csrf={session(c).csrfToken}
        reason={{ label: "Reason", hint: "Recorded in the audit trail, e.g. leaked in a public repository." }}
        values={values}
        errors={errors}
      />
    </>,
  );
}

export async function revokeKeyAction(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "keys:revoke");
  const id = keyIdOf(c);
  const fields = await readProtectedForm(c);
  try {
    const reason = (fields.reason ?? "").trim();
    await revokeKey(consoleOperation(c), id, validate(revokeKeySchema, reason === "" ? {} : { reason }));
  } catch (error) {
    const errors = fieldErrorsOf(error);
    if (errors === null) throw error;
    return revokeKeyPage(c, fields, errors, 400);
  }
  return c.redirect(href(c, `/keys/${id}?done=revoked`), 303);
}
