/**
 * GET and POST /keys/{id}/rotate: a new key with the same settings replaces one of the consumer's keys; the old
 * one keeps working for the grace the consumer chooses, at most its policy's `max_grace_hours`.
 */
import { fieldErrorsOf, type FormFields, intField, readProtectedForm } from "../../console/forms";
import { Csrf, ErrorSummary, Field, type FieldError, formatTime } from "../../console/layout";
import { SecretShown } from "../../console/secret";
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

const GRACE_CHOICES: [number, string][] = [
  [0, "End it now"],
  [1, "1 hour"],
  [24, "24 hours"],
  [168, "7 days"],
  [720, "30 days"],
];

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
  const grace = values.grace_period_hours ?? String(Math.min(24, max));
  return page(
    c,
    { title: "Rotate key", active: "/", status },
    <>
      <p class="crumbs">
        <a href={href(c, "/")}>Your keys</a> / <a href={href(c, `/keys/${id}`)}>{id}</a> / Rotate
      </p>
      <h1>Rotate {k.name || "key"}</h1>
      <p class="lede">
        A new key with the same settings replaces <span class="mono">…{k.hint}</span>, which expires{" "}
        {formatTime(k.expires_at)}.
      </p>
      <form method="post" action={href(c, `/keys/${id}/rotate`)} class="stack" novalidate>
        <ErrorSummary errors={errors} />
        <Csrf token={csrfToken(c)} />
        <input type="hidden" name="form_id" value={randomToken()} />
        <fieldset class="field" id="f-grace_period_hours">
          <legend>How long should the old key keep working?</legend>
          <span class="hint">Time to deploy the new key everywhere. Never past the old key's own expiry.</span>
          <div class="choices">
            {choices.map(([hours, label]) => (
              <label>
                <input type="radio" name="grace_period_hours" value={String(hours)} checked={grace === String(hours)} />
                {label}
              </label>
            ))}
          </div>
        </fieldset>
        <Field
          name="expires_in_days"
          label="New key expires in (days)"
          hint="Empty: the longest allowed."
          errors={errors}
        >
          <input
            type="text"
            inputmode="numeric"
            id="f-expires_in_days"
            name="expires_in_days"
            value={values.expires_in_days ?? ""}
          />
        </Field>
        <div>
          <button type="submit">Rotate key</button>
        </div>
      </form>
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
    const input = validate(rotateKeySchema, {
      grace_period_hours: intField(fields.grace_period_hours),
      expires_in_days: intField(fields.expires_in_days),
    });
    const rotated = await rotateKey(portalOperation(c), id, input, deploymentConfig(c));
    return page(
      c,
      { title: "Key rotated", active: "/", status: 201 },
      <>
        <SecretShown apiKey={rotated.api_key} heading="Your new key" keyHref={href(c, `/keys/${rotated.key.id}`)} />
        <p class="notice">
          The old key <a href={href(c, `/keys/${id}`)}>{id}</a> works until {formatTime(rotated.previous.grace_until)}.
        </p>
      </>,
    );
  } catch (error) {
    const errors = fieldErrorsOf(error);
    if (errors === null) throw error;
    return rotateKeyPage(c, fields, errors, 400);
  }
}
