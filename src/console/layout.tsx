/**
 * The page frame and the small components every page uses, shared by the console and (later) the portal:
 * the document with its stylesheet and script, the navigation, the error summary, form fields, badges,
 * and the chart with its data table. No inline script or style: the CSP (./headers.ts) forbids both.
 */
import type { Child, FC, PropsWithChildren } from "hono/jsx";
import { ASSET_NAMES } from "./assets/files.generated";

export interface NavItem {
  path: string;
  label: string;
}

export interface FrameProps {
  title: string;
  /** The console's (or portal's) prefix: "" on a hostname of its own. */
  base: string;
  /** The product name beside the navigation, and what it is ("Console", "Portal"). */
  product: { name: string; area: string };
  nav: NavItem[];
  /** The nav item's path this page is under. */
  active?: string;
  /** The signed-in principal's name, and the sign-out form's action and CSRF token. */
  who?: { name: string; signOut: string; csrf: string };
  /** Whether the page draws charts (loads uPlot). */
  charts?: boolean;
}

const asset = (base: string, name: keyof typeof ASSET_NAMES) => `${base}/assets/${ASSET_NAMES[name]}`;

export const Frame: FC<PropsWithChildren<FrameProps>> = (props) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="no-referrer" />
      <title>{`${props.title} · ${props.product.name} ${props.product.area}`}</title>
      {props.charts ? <link rel="stylesheet" href={asset(props.base, "uplot.css")} /> : null}
      <link rel="stylesheet" href={asset(props.base, "console.css")} />
      {props.charts ? <script src={asset(props.base, "uplot.js")} defer /> : null}
      <script src={asset(props.base, "console.js")} defer />
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <nav class="nav" aria-label="Main">
        <a class="brand" href={`${props.base}/`}>
          {props.product.name}
          <small>{props.product.area}</small>
        </a>
        {props.nav.map((item) => (
          <a
            class="item"
            href={`${props.base}${item.path}`}
            aria-current={props.active === item.path ? "page" : undefined}
          >
            {item.label}
          </a>
        ))}
        {props.who ? (
          <div class="who">
            <span>
              Signed in as <strong>{props.who.name}</strong>
            </span>
            <form method="post" action={props.who.signOut}>
              <input type="hidden" name="csrf" value={props.who.csrf} />
              <button type="submit" class="secondary">
                Sign out
              </button>
            </form>
          </div>
        ) : null}
      </nav>
      <main id="main">{props.children}</main>
    </body>
  </html>
);

/** One field's problem, as the operations' `invalid_request` lists them: the field's path and the message. */
export interface FieldError {
  path: string;
  message: string;
}

/** The field id an error links to: the form's input for that path (its first segment). */
const fieldId = (path: string) => `f-${path.split(".")[0] || "form"}`;

/** GOV.UK's error summary: at the top, a link to each field with a problem. */
export const ErrorSummary: FC<{ errors: FieldError[] }> = ({ errors }) =>
  errors.length === 0 ? null : (
    <div class="error-summary" role="alert" tabindex={-1} aria-labelledby="error-summary-title">
      <h2 id="error-summary-title">There is a problem</h2>
      <ul>
        {errors.map((e) => (
          <li>
            <a href={`#${fieldId(e.path)}`}>{e.path === "" ? e.message : `${label(e.path)}: ${e.message}`}</a>
          </li>
        ))}
      </ul>
    </div>
  );

const label = (path: string) => path.replaceAll("_", " ");

/** A labelled field with its hint and, when it has one, its error beside it. */
export const Field: FC<PropsWithChildren<{ name: string; label: string; hint?: string; errors?: FieldError[] }>> = (
  props,
) => {
  const error = props.errors?.find((e) => e.path.split(".")[0] === props.name);
  return (
    <div class={error ? "field has-error" : "field"}>
      <label for={fieldId(props.name)}>{props.label}</label>
      {props.hint ? (
        <span class="hint" id={`${fieldId(props.name)}-hint`}>
          {props.hint}
        </span>
      ) : null}
      {error ? (
        <span class="error-message" id={`${fieldId(props.name)}-error`}>
          <span class="visually-hidden">Error: </span>
          {error.message}
        </span>
      ) : null}
      {props.children}
    </div>
  );
};

/** The aria-describedby of a field's input: its hint and error. */
export function describedBy(name: string, hint: boolean, errors?: FieldError[]): string | undefined {
  const ids = [
    hint ? `${fieldId(name)}-hint` : "",
    errors?.some((e) => e.path.split(".")[0] === name) ? `${fieldId(name)}-error` : "",
  ];
  const joined = ids.filter(Boolean).join(" ");
  return joined === "" ? undefined : joined;
}

export const Badge: FC<{ status: string; label?: string }> = ({ status, label }) => (
  <span class={`badge ${status}`}>{label ?? status.replaceAll("_", " ")}</span>
);

/** The hidden CSRF field every state-changing form carries. */
export const Csrf: FC<{ token: string }> = ({ token }) => <input type="hidden" name="csrf" value={token} />;

/** A button that POSTs to `action` (with the CSRF token): disable, enable, sign out. */
export const ActionButton: FC<{ action: string; csrf: string; label: string; kind?: "secondary" | "danger" }> = (p) => (
  <form method="post" action={p.action}>
    <Csrf token={p.csrf} />
    <button type="submit" class={p.kind ?? ""}>
      {p.label}
    </button>
  </form>
);

export interface ChartRow {
  /** Epoch seconds (or any x value), and how the row is labelled in the table. */
  t: number;
  label: string;
  values: number[];
}

/**
 * A chart and its data table. The table is the data: the script reads it to draw the plot (uPlot), and a
 * reader without script, or with a screen reader, has the table.
 */
export const Chart: FC<{
  id: string;
  caption: string;
  columns: string[];
  rows: ChartRow[];
  kind?: "bars" | "lines";
  xLabel?: string;
}> = (p) => (
  <figure class="chart" id={p.id} data-kind={p.kind ?? "bars"} data-time={p.xLabel === "Status" ? "false" : undefined}>
    <figcaption>{p.caption}</figcaption>
    <div class="chart-plot" role="img" aria-label={`${p.caption}: chart of the table beside it`} />
    <section class="chart-data" tabindex={0} aria-label={`${p.caption}: data`}>
      <table>
        <thead>
          <tr>
            <th scope="col">{p.xLabel ?? "Time"}</th>
            {p.columns.map((c) => (
              <th scope="col" class="num">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {p.rows.map((r) => (
            <tr data-t={String(r.t)}>
              <th scope="row">{r.label}</th>
              {r.values.map((v) => (
                <td class="num">{formatNumber(v)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  </figure>
);

export const formatNumber = (n: number) => n.toLocaleString("en-US");

/** An ISO time as "2026-12-02 14:05 UTC" (the console shows UTC everywhere, as the API does). */
export function formatTime(iso: string | null): string {
  if (iso === null) return "—";
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** A duration in ms as "3 h 12 min" or "45 s". */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export const Empty: FC<{ children: Child }> = ({ children }) => <p class="empty">{children}</p>;
