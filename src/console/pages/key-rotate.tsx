/** GET and POST /keys/{id}/rotate: mint the successor, choosing how long the old key keeps working (its grace). */
import { validate } from "../../http/json-body";
import { getKey } from "../../operations/get-key";
import { rotateKey } from "../../operations/rotate-key";
import { rotateKeySchema } from "../../operations/schemas";
import { type ConsoleContext, consoleOperation, deploymentConfig, href, requirePermission, session } from "../context";
import { fieldErrorsOf, type FormFields, readProtectedForm } from "../forms";
import { GRACE_CHOICES, RotatedShown, RotateForm, rotateBody } from "../components/key-form";
import type { FieldError } from "../layout";
import { page } from "../render";
import { randomToken, spendForm } from "../session-store";
import { keyIdOf } from "./key";

export async function rotateKeyPage(
  c: ConsoleContext,
  values: FormFields = {},
  errors: FieldError[] = [],
  status = 200,
) {
  requirePermission(c, "keys:rotate");
  const id = keyIdOf(c);
  const k = await getKey(consoleOperation(c), id);
  return page(
    c,
    { title: "Rotate key", active: "/keys", status },
    <>
      <p class="crumbs">
        <a href={href(c, "/keys")}>Keys</a> / <a href={href(c, `/keys/${id}`)}>{id}</a> / Rotate
      </p>
      <RotateForm
        k={k}
        action={href(c, `/keys/${id}/rotate`)}
        csrf={session(c).csrfToken}
        formId={randomToken()}
        choices={GRACE_CHOICES}
        defaultGrace={24}
        expiresHint="Empty: the default."
        values={values}
        errors={errors}
      />
    </>,
  );
}

export async function rotateKeyAction(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "keys:rotate");
  const id = keyIdOf(c);
  const fields = await readProtectedForm(c);
  if (!(await spendForm(c.env.DB, session(c), fields.form_id ?? ""))) return c.redirect(href(c, `/keys/${id}`), 303);
  try {
    const input = validate(rotateKeySchema, rotateBody(fields));
    const rotated = await rotateKey(consoleOperation(c), id, input, deploymentConfig(c));
    return page(
      c,
      { title: "Key rotated", active: "/keys", status: 201 },
      <RotatedShown
        apiKey={rotated.api_key}
        newHref={href(c, `/keys/${rotated.key.id}`)}
        oldId={id}
        oldHref={href(c, `/keys/${id}`)}
        graceUntil={rotated.previous.grace_until}
      />,
    );
  } catch (error) {
    const errors = fieldErrorsOf(error);
    if (errors === null) throw error;
    return rotateKeyPage(c, fields, errors, 400);
  }
}
