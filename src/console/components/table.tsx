/** The list pages' table frame and pager, one definition for the console's and the portal's tables. */
import type { Child } from "hono/jsx";

/** A column's heading: its text, or a heading that is numeric (right-aligned) or read only by screen readers. */
export type Column = string | { label: string; num?: true; hidden?: true };

/** A scrollable table with its column headings; `children` are the body's rows. */
export function Table(props: { columns: readonly Column[]; class?: string; caption?: string; children: Child }) {
  return (
    <div class="table-wrap">
      <table class={props.class}>
        {props.caption ? <caption class="visually-hidden">{props.caption}</caption> : null}
        <thead>
          <tr>
            {props.columns.map((col) =>
              typeof col === "string" ? (
                <th scope="col">{col}</th>
              ) : col.hidden ? (
                <th scope="col">
                  <span class="visually-hidden">{col.label}</span>
                </th>
              ) : (
                <th scope="col" class={col.num ? "num" : undefined}>
                  {col.label}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** The link to the next page of a list, when there is one (`href` null: this is the last). */
export function Pager(props: { href: string | null; label: string }) {
  return props.href === null ? null : (
    <p class="pager">
      <a href={props.href}>{props.label}</a>
    </p>
  );
}
