/**
 * The `Authorization: Bearer <token>` header (RFC 6750), read one way for every credential that travels in
 * it: the gateway's API key, the admin token and truffleHog's verification token.
 */

/**
 * Trims HTTP's optional whitespace (space and tab) only. String.prototype.trim would also remove U+FEFF, U+3000
 * and other Unicode spaces, silently turning "\uFEFF<key>" into the key: such a value is malformed instead.
 */
const isOws = (code: number) => code === 0x20 || code === 0x09;
export const trimOws = (text: string) =>
  text !== "" && !isOws(text.charCodeAt(0)) && !isOws(text.charCodeAt(text.length - 1))
    ? text
    : text.replace(/^[ \t]+|[ \t]+$/g, "");

/**
 * The token of a Bearer credential (scheme matched case-insensitively, optional whitespace trimmed): null
 * when there is no header or it names another scheme, "malformed" when the token is empty.
 */
export function bearerToken(authorization: string | null | undefined): string | null | "malformed" {
  if (authorization === null || authorization === undefined) return null;
  const value = trimOws(authorization);
  const space = value.search(/[ \t]/);
  const scheme = space === -1 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== "bearer") return null; // another scheme is not a bearer token
  const token = space === -1 ? "" : trimOws(value.slice(space));
  return token === "" ? "malformed" : token;
}

/** The presented Bearer token, or "" when there is none (which matches no configured secret). */
export function presentedBearer(authorization: string | null | undefined): string {
  const token = bearerToken(authorization);
  return token === null || token === "malformed" ? "" : token;
}
