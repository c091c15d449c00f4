/**
 * GET /credentials: the scoped admin credentials the principal may see; POST /credentials mints one (its
 * secret shown once; never broader than the minter, as the API rules), POST /credentials/{id}/revoke.
 */
import { CREDENTIAL_ID_PATTERN } from "../../credentials/credential-record";
import { validate } from "../../http/json-body";
import { createCredential } from "../../operations/create-credential";
import { listCredentials } from "../../operations/list-credentials";
import { ADMIN_PERMISSIONS } from "../../operations/permissions";
import { revokeCredential } from "../../operations/revoke-credential";
import { createCredentialSchema, listCredentialsQuery } from "../../operations/schemas";
import {
  type ConsoleContext,
  ConsoleRefusal,
  consoleOperation,
  deploymentConfig,
  href,
  requirePermission,
  session,
} from "../context";
import { fieldErrorsOf, type FormFields, intField, listField, readProtectedForm } from "../forms";
import { ActionButton, Badge, Csrf, Empty, ErrorSummary, Field, type FieldError, formatTime } from "../layout";
import { page } from "../render";
import { SecretShown } from "../secret";
import { randomToken, spendForm } from "../session-store";
import { Pager, Table } from "../components/table";

export async function credentialsPage(
  c: ConsoleContext,
  posted: FormFields = {},
  errors: FieldError[] = [],
  status = 200,
) {
  requirePermission(c, "credentials:write");
  const cursor = c.req.query("cursor");
  const result = await listCredentials(consoleOperation(c), validate(listCredentialsQuery, cursor ? { cursor } : {}));
  const csrf = session(c).csrfToken;
  const chosen = new Set(
    Object.keys(posted)
      .filter((k) => k.startsWith("op:"))
      .map((k) => k.slice(3)),
  );
  return page(
    c,
    { title: "Admin credentials", active: "/credentials", status },
    <>
      <h1>Admin credentials</h1>
      <p class="lede">
        Scoped credentials for automation: each holds only the operations (and consumers) it was given.
      </p>
      {result.credentials.length === 0 ? (
        <Empty>No credentials yet.</Empty>
      ) : (
        <Table
          columns={[
            "Name",
            "Credential",
            "Status",
            "Operations",
            "Consumers",
            "Expires",
            "Last used",
            { label: "Actions", hidden: true },
          ]}
        >
          {result.credentials.map((x) => (
            <tr data-credential-id={x.id}>
              <td>{x.name}</td>
              <td class="mono">
                {x.id} …{x.hint}
              </td>
              <td>
                <Badge status={x.status} />
              </td>
              <td>{x.operations.join(", ")}</td>
              <td>{x.consumers === null ? "all" : x.consumers.join(", ")}</td>
              <td>{formatTime(x.expires_at)}</td>
              <td>{formatTime(x.last_used_at)}</td>
              <td>
                {x.status === "active" ? (
                  <ActionButton
                    action={href(c, `/credentials/${x.id}/revoke`)}
                    csrf={csrf}
                    label="Revoke credential"
                    kind="danger"
                  />
                ) : null}
              </td>
            </tr>
          ))}
        </Table>
      )}
      <Pager
        href={result.next_cursor ? href(c, `/credentials?cursor=${encodeURIComponent(result.next_cursor)}`) : null}
        label="Next page"
      />
      <h2>Mint a credential</h2>
      <form method="post" action={href(c, "/credentials")} class="stack panel" novalidate>
        <ErrorSummary errors={errors} />
        <Csrf token={csrf} />
        <input type="hidden" name="form_id" value={randomToken()} />
        <Field name="name" label="Name" hint="Who or what uses it, e.g. ci-rotator." errors={errors}>
          <input type="text" id="f-name" name="name" value={posted.name ?? ""} />
        </Field>
        <fieldset class="field" id="f-operations">
          <legend>Operations</legend>
          {errors.some((e) => e.path.startsWith("operations")) ? (
            <span class="error-message">{errors.find((e) => e.path.startsWith("operations"))!.message}</span>
          ) : null}
          <div class="choices">
            {ADMIN_PERMISSIONS.map((p) => (
              <label>
                <input type="checkbox" name={`op:${p}`} value="on" checked={chosen.has(p)} />
                <code>{p}</code>
              </label>
            ))}
          </div>
        </fieldset>
        <Field
          name="consumers"
          label="Consumers"
          hint="Separated by commas. Empty: every consumer (if yours are)."
          errors={errors}
        >
          <input type="text" id="f-consumers" name="consumers" value={posted.consumers ?? ""} />
        </Field>
        <Field name="expires_in_days" label="Expires in (days)" errors={errors}>
          <input
            type="text"
            inputmode="numeric"
            id="f-expires_in_days"
            name="expires_in_days"
            value={posted.expires_in_days ?? "90"}
          />
        </Field>
        <div>
          <button type="submit">Mint credential</button>
        </div>
      </form>
    </>,
  );
}

export async function createCredentialAction(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "credentials:write");
  const fields = await readProtectedForm(c);
  if (!(await spendForm(c.env.DB, session(c), fields.form_id ?? ""))) return c.redirect(href(c, "/credentials"), 303);
  try {
    const consumers = listField(fields.consumers);
    const input = validate(createCredentialSchema, {
      name: (fields.name ?? "").trim(),
      operations: ADMIN_PERMISSIONS.filter((p) => fields[`op:${p}`] === "on"),
      ...(consumers.length > 0 ? { consumers } : {}),
      expires_in_days: intField(fields.expires_in_days),
    });
    const created = await createCredential(consoleOperation(c), input, deploymentConfig(c).vendor);
    return page(
      c,
      { title: "Credential minted", active: "/credentials", status: 201 },
      <SecretShown apiKey={created.credential} heading="Your new admin credential" keyHref={href(c, "/credentials")} />,
    );
  } catch (error) {
    const errors = fieldErrorsOf(error);
    if (errors === null) throw error;
    return credentialsPage(c, fields, errors, 400);
  }
}

export async function revokeCredentialAction(c: ConsoleContext): Promise<Response> {
  requirePermission(c, "credentials:write");
  const id = c.req.param("id") ?? "";
  if (!CREDENTIAL_ID_PATTERN.test(id)) throw new ConsoleRefusal(404, "Not found", "No credential has this id.");
  await readProtectedForm(c);
  await revokeCredential(consoleOperation(c), id, {});
  return c.redirect(href(c, "/credentials"), 303);
}
