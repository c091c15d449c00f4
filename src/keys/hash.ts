const encoder = new TextEncoder();

/** Lowercase hex of the SHA-256 (Web Crypto) of a string. The only form in which a key is ever stored. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return toHex(new Uint8Array(digest));
}

/** "00" … "ff", so that writing a digest is 32 lookups rather than 32 number-to-string conversions. */
const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX_BYTES[bytes[i]!];
  return out;
}
