/** A key's settings as the console and the portal list them: the rows both show, with room for each one's own. */
import type { Child } from "hono/jsx";
import { KEY_ID_PATTERN, type KeyView } from "../../keys/key-record";
import { ConsoleRefusal } from "../context";
import { formatTime } from "../layout";

/** The `:id` of a key page; an id no key can have is simply not found (`notFound` says so to the reader). */
export function keyIdParam(id: string | undefined, notFound: string): string {
  if (id === undefined || !KEY_ID_PATTERN.test(id)) throw new ConsoleRefusal(404, "Key not found", notFound);
  return id;
}

const list = (items: readonly string[], none: string) => (items.length === 0 ? <em>{none}</em> : items.join(", "));

/**
 * The settings list: the key's id and hint, then `owner` (the console names the consumer), then its rules
 * and dates, then `children` (each one's rows on rotation, revocation and use).
 */
export function KeySettings(props: { k: KeyView; owner?: Child; children?: Child }) {
  const { k } = props;
  return (
    <dl class="props">
      <dt>Key id</dt>
      <dd class="mono">{k.id}</dd>
      <dt>Key</dt>
      <dd class="mono">
        {k.prefix}…{k.hint}
      </dd>
      {props.owner}
      <dt>Type, environment</dt>
      <dd>
        {k.type}, {k.environment}
      </dd>
      <dt>Scopes</dt>
      <dd>{list(k.scopes, "none")}</dd>
      <dt>IP allowlist</dt>
      <dd>{list(k.ip_allowlist, "any address")}</dd>
      <dt>Allowed routes</dt>
      <dd>{list(k.allowed_routes, "every route its scopes allow")}</dd>
      {k.type === "publishable" ? (
        <>
          <dt>Allowed origins</dt>
          <dd>{list(k.allowed_origins, "none")}</dd>
        </>
      ) : null}
      <dt>Created</dt>
      <dd>{formatTime(k.created_at)}</dd>
      <dt>Expires</dt>
      <dd>{formatTime(k.expires_at)}</dd>
      {props.children}
    </dl>
  );
}
