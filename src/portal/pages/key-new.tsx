/**
 * GET and POST /keys/new: the consumer creates a key within its key policy. The form offers what the policy
 * allows; the owner is always the session's consumer (a posted owner_id is never read); rate limits and
 * metadata are its platform's (the policy's `default_rate_limits`). The answer shows the secret once; the
 * form's one-time id makes a reload of that answer mint nothing.
 */
import { fieldErrorsOf, type FormFields, intField, listField, readProtectedForm } from "../../console/forms";
import { Csrf, describedBy, ErrorSummary, Field, type FieldError } from "../../console/layout";
import { SecretShown } from "../../console/secret";
import { randomToken, spendForm } from "../../console/session-store";
import { defaultLifetimeDays } from "../../consumers/key-policy";
import { validate } from "../../http/json-body";
import { createKey } from "../../operations/create-key";
import { createKeySchema } from "../../operations/schemas";
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

const TYPES = [
  ["secret", "Secret (server to server)"],
  ["publishable", "Publishable (browsers; read only)"],
] as const;
const ENVIRONMENTS = ["live", "test"] as const;

function NewKeyForm({ c, values, errors }: { c: PortalContext; values: FormFields; errors: FieldError[] }) {
  const policy = consumer(c).key_policy;
  const types = TYPES.filter(([t]) => policy.allowed_types?.includes(t) ?? true);
  const environments = ENVIRONMENTS.filter((e) => policy.allowed_environments?.includes(e) ?? true);
  const scopes = policy.allowed_scopes;
  const v = (name: string, fallback = "") => values[name] ?? fallback;
  const maxDays = defaultLifetimeDays(policy);
  return (
    <form method="post" action={href(c, "/keys/new")} class="stack" novalidate>
      <ErrorSummary errors={errors} />
      <Csrf token={csrfToken(c)} />
      <input type="hidden" name="form_id" value={randomToken()} />
      <Field name="name" label="Name" hint="What the key is for, so you can tell your keys apart." errors={errors}>
        <input
          type="text"
          id="f-name"
          name="name"
          value={v("name")}
          aria-describedby={describedBy("name", true, errors)}
        />
      </Field>
      <Field name="type" label="Type" errors={errors}>
        <select id="f-type" name="type">
          {types.map(([t, label]) => (
            <option value={t} selected={v("type", types[0]?.[0]) === t}>
              {label}
            </option>
          ))}
        </select>
      </Field>
      <Field name="environment" label="Environment" errors={errors}>
        <select id="f-environment" name="environment">
          {environments.map((e) => (
            <option value={e} selected={v("environment", environments[0]) === e}>
              {e}
            </option>
          ))}
        </select>
      </Field>
      <Field
        name="scopes"
        label="Scopes"
        hint={
          scopes
            ? `Separated by commas. Allowed: ${scopes.join(", ") || "none"}.`
            : "Separated by commas, e.g. read, write."
        }
        errors={errors}
      >
        <input
          type="text"
          id="f-scopes"
          name="scopes"
          value={v("scopes", scopes ? scopes.slice(0, 1).join("") : "read")}
          aria-describedby={describedBy("scopes", true, errors)}
        />
      </Field>
      <Field
        name="expires_in_days"
        label="Expires in (days)"
        hint={`Empty: ${maxDays} days, the longest allowed.`}
        errors={errors}
      >
        <input
          type="text"
          inputmode="numeric"
          id="f-expires_in_days"
          name="expires_in_days"
          value={v("expires_in_days")}
          aria-describedby={describedBy("expires_in_days", true, errors)}
        />
      </Field>
      <Field
        name="ip_allowlist"
        label="IP allowlist (optional)"
        hint="Addresses or CIDR ranges, one per line. Empty: any address."
        errors={errors}
      >
        <textarea id="f-ip_allowlist" name="ip_allowlist" aria-describedby={describedBy("ip_allowlist", true, errors)}>
          {v("ip_allowlist")}
        </textarea>
      </Field>
      <Field
        name="allowed_routes"
        label="Allowed routes (optional)"
        hint='One per line, e.g. "GET /api/v1/orders/*". Empty: every route its scopes allow.'
        errors={errors}
      >
        <textarea
          id="f-allowed_routes"
          name="allowed_routes"
          aria-describedby={describedBy("allowed_routes", true, errors)}
        >
          {v("allowed_routes")}
        </textarea>
      </Field>
      {types.some(([t]) => t === "publishable") ? (
        <Field
          name="allowed_origins"
          label="Allowed origins (publishable keys)"
          hint="One per line, e.g. https://app.example.com."
          errors={errors}
        >
          <textarea
            id="f-allowed_origins"
            name="allowed_origins"
            aria-describedby={describedBy("allowed_origins", true, errors)}
          >
            {v("allowed_origins")}
          </textarea>
        </Field>
      ) : null}
      <div>
        <button type="submit">Create key</button>
      </div>
    </form>
  );
}

export function newKeyPage(c: PortalContext, values: FormFields = {}, errors: FieldError[] = [], status = 200) {
  requireWritable(c);
  return page(
    c,
    { title: "Create a key", active: "/", status },
    <>
      <p class="crumbs">
        <a href={href(c, "/")}>Your keys</a> / New
      </p>
      <h1>Create a key</h1>
      <p class="lede">The key is shown once, on the next page. Its rate limits are set by your platform.</p>
      <NewKeyForm c={c} values={values} errors={errors} />
    </>,
  );
}

/** The create body from the form's own fields: the owner is the session's consumer, never a field. */
function createBody(c: PortalContext, f: FormFields): Record<string, unknown> {
  return {
    owner_id: consumer(c).id,
    name: (f.name ?? "").trim(),
    type: f.type,
    environment: f.environment,
    scopes: listField(f.scopes),
    expires_in_days: intField(f.expires_in_days),
    ip_allowlist: listField(f.ip_allowlist),
    allowed_routes: listField(f.allowed_routes),
    allowed_origins: f.type === "publishable" ? listField(f.allowed_origins) : [],
  };
}

export async function createKeyAction(c: PortalContext): Promise<Response> {
  requireWritable(c);
  const fields = await readProtectedForm(c);
  const s = c.var.session!;
  // A resubmitted form (a reload of the secret's page): nothing is minted and no secret shown again.
  if (!(await spendForm(c.env.DB, s, fields.form_id ?? ""))) return c.redirect(href(c, "/"), 303);
  try {
    const input = validate(createKeySchema, createBody(c, fields));
    const created = await createKey(portalOperation(c), input, deploymentConfig(c));
    return page(
      c,
      { title: "Key created", active: "/", status: 201 },
      <SecretShown apiKey={created.api_key} heading="Your new key" keyHref={href(c, `/keys/${created.key.id}`)} />,
    );
  } catch (error) {
    const errors = fieldErrorsOf(error);
    if (errors === null) throw error;
    return newKeyPage(c, fields, errors, 400);
  }
}
