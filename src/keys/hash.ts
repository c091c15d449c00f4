import { toHex } from "../util/hex";

const encoder = new TextEncoder();

/** Lowercase hex of the SHA-256 (Web Crypto) of a string. The only form in which a key is ever stored. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return toHex(new Uint8Array(digest));
}
