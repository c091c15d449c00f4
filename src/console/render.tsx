/** Rendering a console page: the frame with the console's navigation around a page's content. */
import type { Child } from "hono/jsx";
import { actorName } from "../operations/actor";
import type { AdminPermission } from "../operations/permissions";
import type { ConsoleContext } from "./context";
import { Frame, type NavItem } from "./layout";

/** The console's pages, each shown to a principal holding the permission it needs. */
const CONSOLE_NAV: (NavItem & { permission?: AdminPermission })[] = [
  { path: "/", label: "Overview" },
  { path: "/keys", label: "Keys", permission: "keys:read" },
  { path: "/consumers", label: "Consumers", permission: "consumers:read" },
  { path: "/alerts", label: "Alerts", permission: "usage:read" },
  { path: "/leaks", label: "Leak events", permission: "report:read" },
  { path: "/audit", label: "Audit log", permission: "audit:read" },
  { path: "/report", label: "Security report", permission: "report:read" },
  { path: "/credentials", label: "Credentials", permission: "credentials:write" },
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
      nav={p ? CONSOLE_NAV.filter((item) => !item.permission || p.permissions.has(item.permission)) : []}
      active={options.active}
      charts={options.charts}
      who={s && p ? { name: actorName(p.actor), signOut: `${c.var.base}/sign-out`, csrf: s.csrfToken } : undefined}
    >
      {content}
    </Frame>,
    options.status,
  );
}
