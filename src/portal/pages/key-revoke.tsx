/** GET and POST /keys/{id}/revoke: the consumer revokes one of its keys for good, with an optional reason. */
import { fieldErrorsOf, type FormFields, readProtectedForm } from "../../console/forms";
import { RevokeForm } from "../../console/components/key-form";
import type { FieldError } from "../../console/layout";
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
      <RevokeForm
        k={k}
        action={href(c, `/keys/${id}/revoke`)}
        cancelHref={href(c, `/keys/${id}`)}
        csrf={csrfToken(c)}
        reason={{ label: "Reason (optional)", hint: "Kept in the key's activity, e.g. no longer used." }}
        values={values}
        errors={errors}
      />
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
