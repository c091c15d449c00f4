/**
 * Reading the presented key. Two headers are accepted, `X-API-Key` and `Authorization: Bearer`; keys in the
 * URL are refused outright, because URLs end up in logs, browser history and Referer headers.
 */
import { bearerToken, trimOws } from "../http/authorization";
import { credentialsInText, keysInText } from "../keys/format";

/** Query parameters that would carry a credential (compared case-insensitively). */
export const QUERY_CREDENTIAL_NAMES: ReadonlySet<string> = new Set([
  "api_key",
  "api-key",
  "apikey",
  "key",
  "access_token",
  "token",
  "x-api-key",
]);

/**
 * Whether the URL's query carries a credential: a parameter named like one, or a key or admin credential of
 * this authorizer under any name (`?q=sk_live_…`, `?q=ak_…`), so that no spelling of the parameter lets a
 * secret travel in a URL.
 */
export function hasCredentialInQuery(url: URL, vendor: string): boolean {
  if (url.search === "") return false; // most requests: no query to parse
  for (const name of url.searchParams.keys()) if (QUERY_CREDENTIAL_NAMES.has(name.toLowerCase())) return true;
  return keysInQuery(url, vendor).length > 0;
}

/**
 * The keys and admin credentials of this authorizer (valid checksum) anywhere in the URL's query,
 * percent-decoded, each once.
 */
export function keysInQuery(url: URL, vendor: string): string[] {
  const search = url.search;
  if (
    !search.includes("_live_") &&
    !search.includes("_test_") &&
    !search.includes("ak_") &&
    !search.includes("%5F") &&
    !search.includes("%5f")
  )
    return [];
  let decoded = search;
  try {
    decoded = decodeURIComponent(search);
  } catch {
    // A broken escape elsewhere in the query: look at it as it is.
  }
  return [...keysInText(decoded, vendor), ...credentialsInText(decoded, vendor)];
}

export type Credential =
  | { kind: "key"; key: string }
  | { kind: "missing" }
  /** Empty, duplicated, or conflicting credentials, or characters no key can hold: 400, never a guess. */
  | { kind: "malformed" };

/** Whitespace, commas (the join of a repeated header) and control characters never occur in a key. */
const NOT_IN_A_CREDENTIAL = /[\s,\u0000-\u001f\u007f-\u009f]/;

export function readCredential(headers: Headers): Credential {
  const fromAuthorization = bearerToken(headers.get("Authorization"));
  const apiKeyHeader = headers.get("X-API-Key");
  const trimmed = apiKeyHeader === null ? null : trimOws(apiKeyHeader);
  const fromHeader = trimmed === null ? null : trimmed === "" ? "malformed" : trimmed;
  if (fromAuthorization === "malformed" || fromHeader === "malformed") return { kind: "malformed" };
  if (fromAuthorization !== null && fromHeader !== null && fromAuthorization !== fromHeader)
    return { kind: "malformed" };
  const key = fromHeader ?? fromAuthorization;
  if (key === null) return { kind: "missing" };
  if (NOT_IN_A_CREDENTIAL.test(key)) return { kind: "malformed" };
  return { kind: "key", key };
}
