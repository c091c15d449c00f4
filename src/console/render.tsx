/** Rendering a console page: the frame with the console's navigation around a page's content. */
import type { Child } from "hono/jsx";
import { actorName } from "../operations/actor";
import type { ConsoleContext } from "./context";
import { Frame, type NavItem } from "./layout";

const CONSOLE_NAV: NavItem[] = [
  { path: "/", label: "Overview" },
  { path: "/keys", label: "Keys" },
  { path: "/consumers", label: "Consumers" },
  { path: "/alerts", label: "Alerts" },
  { path: "/audit", label: "Audit log" },
  { path: "/report", label: "Security report" },
];

const PRODUCT = { name: "Key Authorizer", area: "Console" };

/** An HTML answer: the doctype and the rendered element, never cached (./headers.ts). */
async function html(c: ConsoleContext, element: Child, status = 200): Promise<Response> {
  return c.html(
    `<!doctype html>${await (element as { toString(): string | Promise<string> }).toString()}`,
    status as 200,
  );
}

/** A page of the signed-in console. */
export function page(
  c: ConsoleContext,
  options: { title: string; active: string; charts?: boolean; status?: number },
  content: Child,
): Promise<Response> {
  const s = c.var.session;
  const p = c.var.principal;
  return html(
    c,
    <Frame
      title={options.title}
      base={c.var.base}
      product={PRODUCT}
      nav={p ? CONSOLE_NAV : []}
      active={options.active}
      charts={options.charts}
      who={s && p ? { name: actorName(p.actor), signOut: `${c.var.base}/sign-out`, csrf: s.csrfToken } : undefined}
    >
      {content}
    </Frame>,
    options.status,
  );
}
