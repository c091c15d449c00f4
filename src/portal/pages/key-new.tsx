/**
 * GET and POST /keys/new: the consumer creates a key within its key policy. The form offers what the policy
 * allows; the owner is always the session's consumer (a posted owner_id is never read); rate limits and
 * metadata are its platform's (the policy's `default_rate_limits`). The answer shows the secret once; the
 * form's one-time id makes a reload of that answer mint nothing.
 */
import { fieldErrorsOf, type FormFields, readProtectedForm } from "../../console/forms";
import { KEY_ENVIRONMENTS, KEY_TYPES, KeyFields, keyFieldsBody } from "../../console/components/key-form";
import { Csrf, ErrorSummary, type FieldError } from "../../console/layout";
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

function NewKeyForm({ c, values, errors }: { c: PortalContext; values: FormFields; errors: FieldError[] }) {
  const policy = consumer(c).key_policy;
  const scopes = policy.allowed_scopes;
  return (
    <form method="post" action={href(c, "/keys/new")} class="stack" novalidate>
      <ErrorSummary errors={errors} />
      <Csrf token={csrfToken(c)} />
      <input type="hidden" name="form_id" value={randomToken()} />
      <KeyFields
        values={values}
        errors={errors}
        types={KEY_TYPES.filter(([t]) => policy.allowed_types?.includes(t) ?? true)}
        environments={KEY_ENVIRONMENTS.filter((e) => policy.allowed_environments?.includes(e) ?? true)}
        defaultScopes={scopes ? scopes.slice(0, 1).join("") : "read"}
        text={{
          nameHint: "What the key is for, so you can tell your keys apart.",
          scopesHint: scopes
            ? `Separated by commas. Allowed: ${scopes.join(", ") || "none"}.`
            : "Separated by commas, e.g. read, write.",
          expiresHint: `Empty: ${defaultLifetimeDays(policy)} days, the longest allowed.`,
          markOptional: true,
        }}
      />
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
  const body = keyFieldsBody(f);
  return { owner_id: consumer(c).id, ...body, allowed_origins: f.type === "publishable" ? body.allowed_origins : [] };
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
