import { toHex } from "./hex";

const encoder = new TextEncoder();

/**
 * Compares two secrets in constant time. Both sides are hashed first, so the comparison takes the same time
 * whatever their lengths, and `timingSafeEqual` (workerd's) never sees buffers of different sizes.
 * @example await secretsEqual(presentedToken, env.ADMIN_TOKEN)
 */
export async function secretsEqual(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(presented)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** Hex HMAC-SHA256 of `message` under `secret`. */
export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message))));
}
