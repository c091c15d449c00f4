/**
 * A form's labelled inputs, each wired to its hint and error (aria-describedby) as GOV.UK's fields are: the
 * one place the console's and the portal's forms spell an input, so the two cannot drift apart.
 */
import { describedBy, Field, type FieldError } from "../layout";

interface FieldProps {
  name: string;
  label: string;
  hint?: string;
  value: string;
  errors: FieldError[];
}

/** A one-line text input (`numeric`: a number, with the numeric keyboard on phones). */
export function TextField(props: FieldProps & { numeric?: boolean; required?: boolean }) {
  return (
    <Field name={props.name} label={props.label} hint={props.hint} errors={props.errors}>
      <input
        type="text"
        inputmode={props.numeric ? "numeric" : undefined}
        id={`f-${props.name}`}
        name={props.name}
        value={props.value}
        aria-describedby={describedBy(props.name, props.hint !== undefined, props.errors)}
        required={props.required}
      />
    </Field>
  );
}

/** A list typed one item per line. */
export function ListField(props: FieldProps) {
  return (
    <Field name={props.name} label={props.label} hint={props.hint} errors={props.errors}>
      <textarea
        id={`f-${props.name}`}
        name={props.name}
        aria-describedby={describedBy(props.name, props.hint !== undefined, props.errors)}
      >
        {props.value}
      </textarea>
    </Field>
  );
}

/** A select of `options` ([value, label]); `selected` is the chosen value. */
export function SelectField(props: {
  name: string;
  label: string;
  options: readonly (readonly [string, string])[];
  selected: string | undefined;
  errors: FieldError[];
}) {
  return (
    <Field name={props.name} label={props.label} errors={props.errors}>
      <select id={`f-${props.name}`} name={props.name}>
        {props.options.map(([value, label]) => (
          <option value={value} selected={props.selected === value}>
            {label}
          </option>
        ))}
      </select>
    </Field>
  );
}
