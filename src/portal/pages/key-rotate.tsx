/**
 * GET and POST /keys/{id}/rotate: a new key with the same settings replaces one of the consumer's keys; the old
 * one keeps working for the grace the consumer chooses, at most its policy's `max_grace_hours`.
 */
import { fieldErrorsOf, type FormFields, readProtectedForm } from "../../console/forms";
import { GRACE_CHOICES, RotatedShown, RotateForm, rotateBody } from "../../console/components/key-form";
import type { FieldError } from "../../console/layout";
import { randomToken, spendForm } from "../../console/session-store";
import { validate } from "../../http/json-body";
import { getKey } from "../../operations/get-key";
import { rotateKey } from "../../operations/rotate-key";
import { rotateKeySchema } from "../../operations/schemas";
import {
  consumer,
  csrfToken,
  deploymentConfig,
  href,
  type PortalContext,
  portalOperation,
  requireWritable,
} from "../context";
import { page } from "../render";
import { keyIdOf } from "./key";

export async function rotateKeyPage(
  c: PortalContext,
  values: FormFields = {},
  errors: FieldError[] = [],
  status = 200,
) {
  requireWritable(c);
  const id = keyIdOf(c);
  const k = await getKey(portalOperation(c), id);
  const max = consumer(c).key_policy.max_grace_hours ?? 720;
  const choices = GRACE_CHOICES.filter(([h]) => h <= max);
  if (!choices.some(([h]) => h === max)) choices.push([max, `${max} hours (the longest allowed)`]);
  return page(
    c,
    { title: "Rotate key", active: "/", status },
    <>
      <p class="crumbs">
        <a href={href(c, "/")}>Your keys</a> / <a href={href(c, `/keys/${id}`)}>{id}</a> / Rotate
      </p>
      <RotateForm
        k={k}
        action={href(c, `/keys/${id}/rotate`)}
        csrf={csrfToken(c)}
        formId={randomToken()}
        choices={choices}
        defaultGrace={Math.min(24, max)}
        expiresHint="Empty: the longest allowed."
        values={values}
        errors={errors}
      />
    </>,
  );
}

export async function rotateKeyAction(c: PortalContext): Promise<Response> {
  requireWritable(c);
  const id = keyIdOf(c);
  const fields = await readProtectedForm(c);
  if (!(await spendForm(c.env.DB, c.var.session!, fields.form_id ?? "")))
    return c.redirect(href(c, `/keys/${id}`), 303);
  try {
    const input = validate(rotateKeySchema, rotateBody(fields));
    const rotated = await rotateKey(portalOperation(c), id, input, deploymentConfig(c));
    return page(
      c,
      { title: "Key rotated", active: "/", status: 201 },
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
