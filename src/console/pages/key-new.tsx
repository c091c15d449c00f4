/**
 * GET and POST /keys/new: create a key. The answer to the POST shows the secret once; the form carries a
 * one-time id, so reloading that answer (which resubmits the form) mints nothing and shows no secret.
 */
import { validate } from "../../http/json-body";
import { createKey } from "../../operations/create-key";
import { createKeySchema } from "../../operations/schemas";
import { type ConsoleContext, consoleOperation, deploymentConfig, href, requirePermission, session } from "../context";
import { fieldErrorsOf, type FormFields, readProtectedForm } from "../forms";
import { KEY_ENVIRONMENTS, KEY_TYPES, KeyFields, keyFieldsBody } from "../components/key-form";
import { TextField } from "../components/fields";
import { Csrf, ErrorSummary, type FieldError } from "../layout";
import { page } from "../render";
import { SecretShown } from "../secret";
import { randomToken, spendForm } from "../session-store";

function NewKeyForm({ c, values, errors }: { c: ConsoleContext; values: FormFields; errors: FieldError[] }) {
  return (
    <form method="post" action={href(c, "/keys/new")} class="stack" novalidate>
      <ErrorSummary errors={errors} />
      <Csrf token={session(c).csrfToken} />
      <input type="hidden" name="form_id" value={randomToken()} />
      <TextField
        name="owner_id"
        label="Consumer"
        hint="The consumer (owner) the key belongs to, e.g. acme-corp."
        value={values.owner_id ?? c.req.query("owner_id") ?? ""}
        errors={errors}
        required
      />
      <KeyFields
        values={values}
        errors={errors}
        types={KEY_TYPES}
        environments={KEY_ENVIRONMENTS}
        defaultScopes="read"
        text={{
          nameHint: "What the key is for, so you can tell keys apart.",
          scopesHint: "Separated by commas, e.g. read, write.",
          expiresHint: "Empty: the default (365, or the consumer's key policy).",
        }}
      />
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

export async function createKeyAction(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "keys:create");
  const fields = await readProtectedForm(c);
  // A resubmitted form (a reload of the secret's page): nothing is minted and no secret shown again.
  if (!(await spendForm(c.env.DB, session(c), fields.form_id ?? ""))) return c.redirect(href(c, "/keys"), 303);
  try {
    const input = validate(createKeySchema, { owner_id: (fields.owner_id ?? "").trim(), ...keyFieldsBody(fields) });
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
