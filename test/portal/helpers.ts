/**
 * The portal through the real Worker, with the console on its path prefix: a browser-like client with its
 * cookie jar, its Origin and its forms, and portal links opened through the real admin API.
 */
import { ADMIN_TOKEN } from "../helpers";
import { CONSOLE, FormClient, fetchWorker } from "../console/helpers";

export { CONSOLE, fetchWorker };
export const PORTAL = `${CONSOLE}/portal`;

/** POST /admin/v1/portal/sessions with the admin token (or `token`). */
export function openPortal(
  body: Record<string, unknown>,
  token = ADMIN_TOKEN,
  overrides: Partial<Cloudflare.Env> = {},
) {
  return fetchWorker(
    "/admin/v1/portal/sessions",
    {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    },
    overrides,
  );
}

/** A link's path on this Worker (its URL without the origin). */
export async function portalLink(consumerId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await openPortal({ consumer_id: consumerId, ...extra });
  if (response.status !== 201) throw new Error(`portal link refused: ${response.status} ${await response.text()}`);
  const { url } = (await response.json()) as { url: string };
  return new URL(url).pathname;
}

export class PortalClient extends FormClient {
  constructor() {
    super(PORTAL);
  }

  /** Opens a link: answers the exchange's response (a 303 to the clean URL when it works). */
  open(linkPath: string) {
    return this.request(linkPath);
  }
}

/** A client with a portal session for this consumer. */
export async function signedInPortal(consumerId: string, extra: Record<string, unknown> = {}): Promise<PortalClient> {
  const client = new PortalClient();
  const response = await client.open(await portalLink(consumerId, extra));
  if (response.status !== 303) throw new Error(`portal link did not open: ${response.status}`);
  return client;
}
