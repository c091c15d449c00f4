/**
 * The key forms the console and the portal share: a new key's rules, the rotation's grace, the revocation.
 * They take what differs as props (hints, the choices a key policy leaves, the form's action and CSRF
 * token); what a form offers is the caller's to decide: the portal's never carries rate limits or metadata.
 */
import { type FormFields, intField, listField } from "../forms";
import { Csrf, ErrorSummary, type FieldError, formatTime } from "../layout";
import { SecretShown } from "../secret";
import { ListField, SelectField, TextField } from "./fields";

export const KEY_TYPES = [
  ["secret", "Secret (server to server)"],
  ["publishable", "Publishable (browsers; read only)"],
] as const;
export const KEY_ENVIRONMENTS = ["live", "test"] as const;

/** The one-line texts beside a new key's fields that differ between the console and the portal. */
export interface KeyFieldsText {
  nameHint: string;
  scopesHint: string;
  expiresHint: string;
  /** Marks the allowlist and routes "(optional)" in their labels. */
  markOptional?: boolean;
}

/**
 * A new key's fields from its name on: type and environment (of those offered), scopes, expiry, IP allowlist,
 * routes and, when a publishable key is offered, its origins. The first type and environment are the defaults.
 */
export function KeyFields(props: {
  values: FormFields;
  errors: FieldError[];
  types: readonly (typeof KEY_TYPES)[number][];
  environments: readonly (typeof KEY_ENVIRONMENTS)[number][];
  defaultScopes: string;
  text: KeyFieldsText;
}) {
  const { values, errors, types, text } = props;
  const v = (name: string, fallback = "") => values[name] ?? fallback;
  const optional = text.markOptional ? " (optional)" : "";
  return (
    <>
      <TextField name="name" label="Name" hint={text.nameHint} value={v("name")} errors={errors} />
      <SelectField name="type" label="Type" options={types} selected={v("type", types[0]?.[0])} errors={errors} />
      <SelectField
        name="environment"
        label="Environment"
        options={props.environments.map((e) => [e, e] as const)}
        selected={v("environment", props.environments[0])}
        errors={errors}
      />
      <TextField
        name="scopes"
        label="Scopes"
        hint={text.scopesHint}
        value={v("scopes", props.defaultScopes)}
        errors={errors}
      />
      <TextField
        name="expires_in_days"
        label="Expires in (days)"
        hint={text.expiresHint}
        value={v("expires_in_days")}
        errors={errors}
        numeric
      />
      <ListField
        name="ip_allowlist"
        label={`IP allowlist${optional}`}
        hint={IP_ALLOWLIST_HINT}
        value={v("ip_allowlist")}
        errors={errors}
      />
      <ListField
        name="allowed_routes"
        label={`Allowed routes${optional}`}
        hint={ALLOWED_ROUTES_HINT}
        value={v("allowed_routes")}
        errors={errors}
      />
      {types.some(([t]) => t === "publishable") ? (
        <ListField
          name="allowed_origins"
          label="Allowed origins (publishable keys)"
          hint={ALLOWED_ORIGINS_HINT}
          value={v("allowed_origins")}
          errors={errors}
        />
      ) : null}
    </>
  );
}

/** The create body the admin API would take from `KeyFields`' fields (less the owner; the schema validates it). */
export function keyFieldsBody(f: FormFields): Record<string, unknown> {
  return {
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

export const IP_ALLOWLIST_HINT = "Addresses or CIDR ranges, one per line. Empty: any address.";
export const ALLOWED_ROUTES_HINT = 'One per line, e.g. "GET /api/v1/public/*". Empty: every route its scopes allow.';
export const ALLOWED_ORIGINS_HINT = "One per line, e.g. https://app.example.com.";

/** The grace periods offered, in hours (the API takes any from 0 to 720). */
export const GRACE_CHOICES: readonly (readonly [number, string])[] = [
  [0, "End it now"],
  [1, "1 hour"],
  [24, "24 hours"],
  [168, "7 days"],
  [720, "30 days"],
];

interface KeySummary {
  name: string;
  hint: string;
  expires_at: string;
}

/** The rotation form: how long the old key keeps working (of `choices`), and the new key's expiry. */
export function RotateForm(props: {
  k: KeySummary;
  action: string;
  csrf: string;
  formId: string;
  choices: readonly (readonly [number, string])[];
  values: FormFields;
  errors: FieldError[];
  /** The grace chosen when the form is first shown. */
  defaultGrace: number;
  expiresHint: string;
}) {
  const grace = props.values.grace_period_hours ?? String(props.defaultGrace);
  return (
    <>
      <h1>Rotate {props.k.name || "key"}</h1>
      <p class="lede">
        A new key with the same settings replaces <span class="mono">…{props.k.hint}</span>, which expires{" "}
        {formatTime(props.k.expires_at)}.
      </p>
      <form method="post" action={props.action} class="stack" novalidate>
        <ErrorSummary errors={props.errors} />
        <Csrf token={props.csrf} />
        <input type="hidden" name="form_id" value={props.formId} />
        <fieldset class="field" id="f-grace_period_hours">
          <legend>How long should the old key keep working?</legend>
          <span class="hint">Time to deploy the new key everywhere. Never past the old key's own expiry.</span>
          <div class="choices">
            {props.choices.map(([hours, label]) => (
              <label>
                <input type="radio" name="grace_period_hours" value={String(hours)} checked={grace === String(hours)} />
                {label}
              </label>
            ))}
          </div>
        </fieldset>
        <TextField
          name="expires_in_days"
          label="New key expires in (days)"
          hint={props.expiresHint}
          value={props.values.expires_in_days ?? ""}
          errors={props.errors}
          numeric
        />
        <div>
          <button type="submit">Rotate key</button>
        </div>
      </form>
    </>
  );
}

/** The rotate body the admin API would take from `RotateForm`'s fields. */
export const rotateBody = (f: FormFields) => ({
  grace_period_hours: intField(f.grace_period_hours),
  expires_in_days: intField(f.expires_in_days),
});

/** The rotation's answer: the successor's secret, once, and until when the old key works. */
export function RotatedShown(props: {
  apiKey: string;
  newHref: string;
  oldId: string;
  oldHref: string;
  graceUntil: string | null;
}) {
  return (
    <>
      <SecretShown apiKey={props.apiKey} heading="Your new key" keyHref={props.newHref} />
      <p class="notice">
        The old key <a href={props.oldHref}>{props.oldId}</a> works until {formatTime(props.graceUntil)}.
      </p>
    </>
  );
}

/** The revocation form: the warning, an optional reason, the button and a way back. */
export function RevokeForm(props: {
  k: { name: string; hint: string };
  action: string;
  cancelHref: string;
  csrf: string;
  reason: { label: string; hint: string };
  values: FormFields;
  errors: FieldError[];
}) {
  return (
    <>
      <h1>Revoke {props.k.name || "key"}</h1>
      <div class="notice warning">
        Requests with <span class="mono">…{props.k.hint}</span> are refused everywhere within seconds. This cannot be
        undone.
      </div>
      <form method="post" action={props.action} class="stack" novalidate>
        <ErrorSummary errors={props.errors} />
        <Csrf token={props.csrf} />
        <TextField
          name="reason"
          label={props.reason.label}
          hint={props.reason.hint}
          value={props.values.reason ?? ""}
          errors={props.errors}
        />
        <div class="actions">
          <button type="submit" class="danger">
            Revoke key
          </button>
          <a href={props.cancelHref}>Cancel</a>
        </div>
      </form>
    </>
  );
}
