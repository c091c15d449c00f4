/** GET and POST /keys/{id}/revoke: the consumer revokes one of its keys for good, with an optional reason. */
import { fieldErrorsOf, type FormFields, readProtectedForm } from "../../console/forms";
import { Csrf, describedBy, ErrorSummary, Field, type FieldError } from "../../console/layout";
import { validate } from "../../http/json-body";
import { getKey } from "../../operations/get-key";
import { revokeKey } from "../../operations/revoke-key";
import { revokeKeySchema } from "../../operations/schemas";
import { csrfToken, href, type PortalContext, portalOperation, requireWritable } from "../context";
import { page } from "../render";
import { keyIdOf } from "./key";

export async function revokeKeyPage(
  c: PortalContext,
  values: FormFields = {},
  errors: FieldError[] = [],
  status = 200,
) {
  requireWritable(c);
  const id = keyIdOf(c);
  const k = await getKey(portalOperation(c), id);
  return page(
    c,
    { title: "Revoke key", active: "/", status },
    <>
      <p class="crumbs">
        <a href={href(c, "/")}>Your keys</a> / <a href={href(c, `/keys/${id}`)}>{id}</a> / Revoke
      </p>
      <h1>Revoke {k.name || "key"}</h1>
      <div class="notice warning">
        Requests with <span class="mono">…{k.hint}</span> are refused everywhere within seconds. This cannot be undone.
      </div>
      <form method="post" action={href(c, `/keys/${id}/revoke`)} class="stack" novalidate>
        <ErrorSummary errors={errors} />
        <Csrf token={csrfToken(c)} />
        <Field
          name="reason"
          label="Reason (optional)"
          hint="Kept in the key's activity, e.g. no longer used."
          errors={errors}
        >
          <input
            type="text"
            id="f-reason"
            name="reason"
            value={values.reason ?? ""}
            aria-describedby={describedBy("reason", true, errors)}
          />
        </Field>
        <div class="actions">
          <button type="submit" class="danger">
            Revoke key
          </button>
          <a href={href(c, `/keys/${id}`)}>Cancel</a>
        </div>
      </form>
    </>,
  );
}

export async function revokeKeyAction(c: PortalContext): Promise<Response> {
  requireWritable(c);
  const id = keyIdOf(c);
  const fields = await readProtectedForm(c);
  try {
    const reason = (fields.reason ?? "").trim();
    await revokeKey(portalOperation(c), id, validate(revokeKeySchema, reason === "" ? {} : { reason }));
  } catch (error) {
    const errors = fieldErrorsOf(error);
    if (errors === null) throw error;
    return revokeKeyPage(c, fields, errors, 400);
  }
  return c.redirect(href(c, `/keys/${id}`), 303);
}
