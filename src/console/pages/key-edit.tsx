/**
 * GET and POST /keys/{id}/edit: change a key's name, scopes, allowlist, routes, origins and expiry. Only the
 * fields that differ from the key are sent to the operation (so its audit row lists what changed); each
 * refusal is shown beside its field and in the summary at the top.
 */
import { validate } from "../../http/json-body";
import type { KeyView } from "../../keys/key-record";
import { getKey } from "../../operations/get-key";
import { updateKeySchema } from "../../operations/schemas";
import { updateKey } from "../../operations/update-key";
import { type ConsoleContext, consoleOperation, deploymentConfig, href, requirePermission, session } from "../context";
import { ListField, TextField } from "../components/fields";
import { ALLOWED_ORIGINS_HINT, ALLOWED_ROUTES_HINT, IP_ALLOWLIST_HINT } from "../components/key-form";
import { fieldErrorsOf, type FormFields, listField, readProtectedForm } from "../forms";
import { Csrf, describedBy, ErrorSummary, Field, type FieldError } from "../layout";
import { page } from "../render";
import { keyIdOf } from "./key";

/** The form's values for a key: lists one per line, the expiry as its UTC day. */
function valuesOf(k: KeyView): FormFields {
  return {
    name: k.name,
    scopes: k.scopes.join(", "),
    ip_allowlist: k.ip_allowlist.join("\n"),
    allowed_routes: k.allowed_routes.join("\n"),
    allowed_origins: k.allowed_origins.join("\n"),
    expires_on: k.expires_at.slice(0, 10),
  };
}

export async function editKeyPage(c: ConsoleContext, posted?: FormFields, errors: FieldError[] = [], status = 200) {
  requirePermission(c, "keys:create");
  const id = keyIdOf(c);
  const k = await getKey(consoleOperation(c), id);
  const v = posted ?? valuesOf(k);
  const area = (name: string, label: string, hint: string) => (
    <ListField name={name} label={label} hint={hint} value={v[name] ?? ""} errors={errors} />
  );
  return page(
    c,
    { title: "Edit key", active: "/keys", status },
    <>
      <p class="crumbs">
        <a href={href(c, "/keys")}>Keys</a> / <a href={href(c, `/keys/${id}`)}>{id}</a> / Edit
      </p>
      <h1>Edit {k.name || "key"}</h1>
      <form method="post" action={href(c, `/keys/${id}/edit`)} class="stack" novalidate>
        <ErrorSummary errors={errors} />
        <Csrf token={session(c).csrfToken} />
        <TextField name="name" label="Name" value={v.name ?? ""} errors={errors} />
        <TextField name="scopes" label="Scopes" hint="Separated by commas." value={v.scopes ?? ""} errors={errors} />
        {area("ip_allowlist", "IP allowlist", IP_ALLOWLIST_HINT)}
        {area("allowed_routes", "Allowed routes", ALLOWED_ROUTES_HINT)}
        {k.type === "publishable" ? area("allowed_origins", "Allowed origins", ALLOWED_ORIGINS_HINT) : null}
        <Field
          name="expires_at"
          label="Expires on (UTC)"
          hint="The key stops working at the start of this day."
          errors={errors}
        >
          <input
            type="date"
            id="f-expires_at"
            name="expires_on"
            value={v.expires_on ?? ""}
            aria-describedby={describedBy("expires_at", true, errors)}
          />
        </Field>
        <div class="actions">
          <button type="submit">Save changes</button>
          <a href={href(c, `/keys/${id}`)}>Cancel</a>
        </div>
      </form>
    </>,
  );
}

export async function editKeyAction(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "keys:create");
  const id = keyIdOf(c);
  const fields = await readProtectedForm(c);
  const ctx = consoleOperation(c);
  const current = valuesOf(await getKey(ctx, id));
  const changes: Record<string, unknown> = {};
  const same = (name: string, list: boolean) =>
    list
      ? listField(fields[name]).join("\n") === listField(current[name]).join("\n")
      : (fields[name] ?? "").trim() === current[name];
  if (fields.name !== undefined && !same("name", false)) changes.name = fields.name.trim();
  for (const name of ["scopes", "ip_allowlist", "allowed_routes", "allowed_origins"]) {
    if (fields[name] !== undefined && !same(name, true)) changes[name] = listField(fields[name]);
  }
  if (fields.expires_on !== undefined && !same("expires_on", false)) {
    const day = fields.expires_on.trim();
    changes.expires_at = /^\d{4}-\d{2}-\d{2}$/.test(day) ? `${day}T00:00:00Z` : day;
  }
  if (Object.keys(changes).length === 0) return c.redirect(href(c, `/keys/${id}`), 303);
  try {
    await updateKey(ctx, id, validate(updateKeySchema, changes), deploymentConfig(c));
  } catch (error) {
    const errors = fieldErrorsOf(error);
    if (errors === null) throw error;
    return editKeyPage(c, fields, errors, 400);
  }
  return c.redirect(href(c, `/keys/${id}?done=updated`), 303);
}
