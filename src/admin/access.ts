/**
 * Cloudflare Access as a second way into the admin API. When ACCESS_TEAM_DOMAIN and ACCESS_AUD are set, a
 * request carrying `Cf-Access-Jwt-Assertion` is admitted if that JWT is signed (RS256) by a key of the team's
 * JWKS (`<team domain>/cdn-cgi/access/certs`), names the audience, comes from the team as issuer, is within
 * its validity, and names who it is for: a person's email or, for a service token, its `common_name` (see
 * ./access-policy.ts for what each may do). The JWKS URL comes from configuration,
 * never from the request; it is cached per isolate and fetched again, with a timeout, for an unknown key id.
 */
import { log } from "../util/log";
import { clock, timeoutSignal } from "../util/clock";
import { MINUTE_MS, SECOND_MS } from "../util/time";

export interface AccessConfig {
  teamDomain: string;
  audience: string;
}

/** How long the team's keys are trusted before they are fetched again. */
const JWKS_CACHE_TTL_MS = 10 * MINUTE_MS;
const JWKS_FETCH_TIMEOUT_MS = 3_000;
/** Clock skew tolerated on exp and nbf. */
const LEEWAY_S = 60;

let jwks: { url: string; keys: Map<string, CryptoKey>; fetchedAt: number } | null = null;

function base64UrlDecode(text: string): Uint8Array {
  const base64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

function decodeJson(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(base64UrlDecode(segment)));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

async function fetchKeys(url: string): Promise<Map<string, CryptoKey>> {
  const { signal, cancel } = timeoutSignal(JWKS_FETCH_TIMEOUT_MS);
  let body: { keys?: (JsonWebKey & { kid?: string })[] };
  try {
    const response = await fetch(url, { signal });
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    body = await response.json();
  } finally {
    cancel();
  }
  const keys = new Map<string, CryptoKey>();
  for (const jwk of body.keys ?? []) {
    if (jwk.kty !== "RSA" || typeof jwk.kid !== "string") continue;
    keys.set(
      jwk.kid,
      await crypto.subtle.importKey("jwk", jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]),
    );
  }
  return keys;
}

async function keyFor(config: AccessConfig, kid: string, now: number): Promise<CryptoKey | null> {
  const url = `${config.teamDomain}/cdn-cgi/access/certs`;
  const fresh = jwks && jwks.url === url && now - jwks.fetchedAt < JWKS_CACHE_TTL_MS;
  if (!fresh || !jwks!.keys.has(kid)) {
    try {
      jwks = { url, keys: await fetchKeys(url), fetchedAt: now };
    } catch {
      // Access JWTs are refused until the keys can be fetched.
      log("error", "admin.access_keys_unavailable", {
        degraded: "access_keys_unavailable",
        setting: "ACCESS_TEAM_DOMAIN",
      });
      return null;
    }
  }
  return jwks!.keys.get(kid) ?? null;
}

/** Who a valid Access JWT is for: a person (email) or a service token (common name). */
export type AccessIdentity = { email: string } | { commonName: string };

/** The identity of a valid Access JWT, or null. Never throws on bad input. */
export async function verifyAccessJwt(
  config: AccessConfig,
  token: string,
  now = clock.now(),
): Promise<AccessIdentity | null> {
  const parts = token.split(".");
  if (parts.length !== 3 || token.length > 8192) return null;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  const claims = decodeJson(payloadPart);
  if (!header || !claims || header.alg !== "RS256" || typeof header.kid !== "string") return null;
  const key = await keyFor(config, header.kid, now);
  if (!key) return null;
  let signature: Uint8Array;
  try {
    signature = base64UrlDecode(signaturePart);
  } catch {
    return null;
  }
  const signed = new TextEncoder().encode(`${headerPart}.${payloadPart}`);
  if (!(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, signature, signed))) return null;

  const seconds = now / SECOND_MS;
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(config.audience)) return null;
  if (claims.iss !== config.teamDomain) return null;
  if (typeof claims.exp !== "number" || claims.exp + LEEWAY_S < seconds) return null;
  if (typeof claims.nbf === "number" && claims.nbf - LEEWAY_S > seconds) return null;
  if (typeof claims.email === "string" && claims.email !== "") {
    return /^[^\s@]{1,64}@[^\s@]{1,255}$/.test(claims.email) ? { email: claims.email.toLowerCase() } : null;
  }
  // A service token's JWT has no email; its identity is the token's client id, `common_name`.
  if (typeof claims.common_name === "string" && /^[\x21-\x7e]{1,255}$/.test(claims.common_name)) {
    return { commonName: claims.common_name };
  }
  return null;
}
