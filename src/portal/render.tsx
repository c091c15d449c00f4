/** Rendering a portal page: the console's frame (./../console/layout.tsx) with the portal's navigation. */
import type { Child } from "hono/jsx";
import { Frame, type NavItem } from "../console/layout";
import type { PortalContext } from "./context";

const PORTAL_NAV: NavItem[] = [
  { path: "/", label: "Keys" },
  { path: "/activity", label: "Activity" },
];

const PRODUCT = { name: "API keys", area: "Portal" };

/** "Back to …": the return URL's host, which is what a reader can check. */
function BackLink({ url }: { url: string | null | undefined }) {
  if (!url) return null;
  return (
    <p class="crumbs">
      <a href={url} rel="noreferrer">
        Back to {new URL(url).host}
      </a>
    </p>
  );
}

/** A page of the portal; without a session (a refused link), the frame without navigation. */
export async function page(
  c: PortalContext,
  options: { title: string; active: string; status?: number; charts?: boolean },
  content: Child,
): Promise<Response> {
  const s = c.var.session;
  const consumer = c.var.consumer;
  const frame = (
    <Frame
      title={options.title}
      base={c.var.base}
      product={PRODUCT}
      nav={s && consumer ? PORTAL_NAV : []}
      active={options.active}
      charts={options.charts}
      who={
        s && consumer
          ? { name: consumer.name || consumer.id, signOut: `${c.var.base}/sign-out`, csrf: s.csrfToken }
          : undefined
      }
    >
      {s && consumer ? <BackLink url={c.var.returnUrl} /> : null}
      {s && consumer && consumer.status !== "active" ? (
        <div class="notice warning" role="note">
          <strong>Your access is disabled.</strong> Your keys are refused and can be seen here, but not created, rotated
          or revoked. Contact your platform.
        </div>
      ) : null}
      {content}
    </Frame>
  );
  return c.html(
    `<!doctype html>${await (frame as { toString(): string | Promise<string> }).toString()}`,
    (options.status ?? 200) as 200,
  );
}
