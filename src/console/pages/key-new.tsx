/**
 * GET and POST /keys/new: create a key. The answer to the POST shows the secret once; the form carries a
 * one-time id, so reloading that answer (which resubmits the form) mints nothing and shows no secret.
 */
import { validate } from "../../http/json-body";
import { createKey } from "../../operations/create-key";
import { createKeySchema } from "../../operations/schemas";
import { type ConsoleContext, consoleOperation, deploymentConfig, href, requirePermission, session } from "../context";
import { fieldErrorsOf, type FormFields, intField, listField, readProtectedForm } from "../forms";
import { Csrf, describedBy, ErrorSummary, Field, type FieldError } from "../layout";
import { page } from "../render";
import { SecretShown } from "../secret";
import { randomToken, spendForm } from "../session-store";

function NewKeyForm({ c, values, errors }: { c: ConsoleContext; values: FormFields; errors: FieldError[] }) {
  const v = (name: string, fallback = "") => values[name] ?? fallback;
  return (
    <form method="post" action={href(c, "/keys/new")} class="stack" novalidate>
      <ErrorSummary errors={errors} />
      <Csrf token={session(c).csrfToken} />
      <input type="hidden" name="form_id" value={randomToken()} />
      <Field
        name="owner_id"
        label="Consumer"
        hint="The consumer (owner) the key belongs to, e.g. acme-corp."
        errors={errors}
      >
        <input
          type="text"
          id="f-owner_id"
          name="owner_id"
          value={v("owner_id", c.req.query("owner_id") ?? "")}
          aria-describedby={describedBy("owner_id", true, errors)}
          required
        />
      </Field>
      <Field name="name" label="Name" hint="What the key is for, so you can tell keys apart." errors={errors}>
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
          <option value="secret" selected={v("type", "secret") === "secret"}>
            Secret (server to server)
          </option>
          <option value="publishable" selected={v("type") === "publishable"}>
            Publishable (browsers; read only)
          </option>
        </select>
      </Field>
      <Field name="environment" label="Environment" errors={errors}>
        <select id="f-environment" name="environment">
          <option value="live" selected={v("environment", "live") === "live"}>
            live
          </option>
          <option value="test" selected={v("environment") === "test"}>
            test
          </option>
        </select>
      </Field>
      <Field name="scopes" label="Scopes" hint="Separated by commas, e.g. read, write." errors={errors}>
        <input
          type="text"
          id="f-scopes"
          name="scopes"
          value={v("scopes", "read")}
          aria-describedby={describedBy("scopes", true, errors)}
        />
      </Field>
      <Field
        name="expires_in_days"
        label="Expires in (days)"
        hint="Empty: the default (365, or the consumer's key policy)."
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
        label="IP allowlist"
        hint="CIDR ranges, one per line. Empty: any address."
        errors={errors}
      >
        <textarea id="f-ip_allowlist" name="ip_allowlist" aria-describedby={describedBy("ip_allowlist", true, errors)}>
          {v("ip_allowlist")}
        </textarea>
      </Field>
      <Field
        name="allowed_routes"
        label="Allowed routes"
        hint='One per line, e.g. "GET /api/v1/public/*". Empty: every route its scopes allow.'
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
      <div>
        <button type="submit">Create key</button>
      </div>
    </form>
  );
}

export function newKeyPage(c: ConsoleContext, values: FormFields = {}, errors: FieldError[] = [], status = 200) {
  requirePermission(c, "keys:create");
  return page(
    c,
    { title: "Create a key", active: "/keys", status },
    <>
      <p class="crumbs">
        <a href={href(c, "/keys")}>Keys</a> / New
      </p>
      <h1>Create a key</h1>
      <p class="lede">The secret is shown once, on the next page.</p>
      <NewKeyForm c={c} values={values} errors={errors} />
    </>,
  );
}

/** The create body the admin API would take, from the form's fields (the schema then validates it). */
function createBody(f: FormFields): Record<string, unknown> {
  return {
    owner_id: (f.owner_id ?? "").trim(),
    name: (f.name ?? "").trim(),
    type: f.type,
    environment: f.environment,
    scopes: listField(f.scopes),
    expires_in_days: intField(f.expires_in_days),
    ip_allowlist: listField(f.ip_allowlist),
    allowed_routes: listField(f.allowed_routes),
    allowed_origins: listField(f.allowed_origins),
  };
}

export async function createKeyAction(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "keys:create");
  const fields = await readProtectedForm(c);
  // A resubmitted form (a reload of the secret's page): nothing is minted and no secret shown again.
  if (!(await spendForm(c.env.DB, session(c), fields.form_id ?? ""))) return c.redirect(href(c, "/keys"), 303);
  try {
    const input = validate(createKeySchema, createBody(fields));
    const created = await createKey(consoleOperation(c), input, deploymentConfig(c));
    return page(
      c,
      { title: "Key created", active: "/keys", status: 201 },
      <SecretShown apiKey={created.api_key} heading="Your new key" keyHref={href(c, `/keys/${created.key.id}`)} />,
    );
  } catch (error) {
    const errors = fieldErrorsOf(error);
    if (errors === null) throw error;
    return newKeyPage(c, fields, errors, 400);
  }
}
