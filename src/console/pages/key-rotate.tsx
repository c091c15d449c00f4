/** GET and POST /keys/{id}/rotate: mint the successor, choosing how long the old key keeps working (its grace). */
import { validate } from "../../http/json-body";
import { getKey } from "../../operations/get-key";
import { rotateKey } from "../../operations/rotate-key";
import { rotateKeySchema } from "../../operations/schemas";
import { type ConsoleContext, consoleOperation, deploymentConfig, href, requirePermission, session } from "../context";
import { fieldErrorsOf, type FormFields, intField, readProtectedForm } from "../forms";
import { Csrf, ErrorSummary, Field, type FieldError, formatTime } from "../layout";
import { page } from "../render";
import { SecretShown } from "../secret";
import { randomToken, spendForm } from "../session-store";
import { keyIdOf } from "./key";

/** The grace periods offered, in hours (the API takes any from 0 to 720). */
const GRACE_CHOICES: [number, string][] = [
  [0, "End it now"],
  [1, "1 hour"],
  [24, "24 hours"],
  [168, "7 days"],
  [720, "30 days"],
];

export async function rotateKeyPage(
  c: ConsoleContext,
  values: FormFields = {},
  errors: FieldError[] = [],
  status = 200,
) {
  requirePermission(c, "keys:rotate");
  const id = keyIdOf(c);
  const k = await getKey(consoleOperation(c), id);
  const grace = values.grace_period_hours ?? "24";
  return page(
    c,
    { title: "Rotate key", active: "/keys", status },
    <>
      <p class="crumbs">
        <a href={href(c, "/keys")}>Keys</a> / <a href={href(c, `/keys/${id}`)}>{id}</a> / Rotate
      </p>
      <h1>Rotate {k.name || "key"}</h1>
      <p class="lede">
        A new key with the same settings replaces <span class="mono">…{k.hint}</span>, which expires{" "}
        {formatTime(k.expires_at)}.
      </p>
      <form method="post" action={href(c, `/keys/${id}/rotate`)} class="stack" novalidate>
        <ErrorSummary errors={errors} />
        <Csrf token={session(c).csrfToken} />
        <input type="hidden" name="form_id" value={randomToken()} />
        <fieldset class="field" id="f-grace_period_hours">
          <legend>How long should the old key keep working?</legend>
          <span class="hint">Time to deploy the new key everywhere. Never past the old key's own expiry.</span>
          <div class="choices">
            {GRACE_CHOICES.map(([hours, label]) => (
              <label>
                <input type="radio" name="grace_period_hours" value={String(hours)} checked={grace === String(hours)} />
                {label}
              </label>
            ))}
          </div>
        </fieldset>
        <Field name="expires_in_days" label="New key expires in (days)" hint="Empty: the default." errors={errors}>
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

export async function rotateKeyAction(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "keys:rotate");
  const id = keyIdOf(c);
  const fields = await readProtectedForm(c);
  if (!(await spendForm(c.env.DB, session(c), fields.form_id ?? ""))) return c.redirect(href(c, `/keys/${id}`), 303);
  try {
    const input = validate(rotateKeySchema, {
      grace_period_hours: intField(fields.grace_period_hours),
      expires_in_days: intField(fields.expires_in_days),
    });
    const rotated = await rotateKey(consoleOperation(c), id, input, deploymentConfig(c));
    return page(
      c,
      { title: "Key rotated", active: "/keys", status: 201 },
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
