/** A locally generated GitHub signing key, its published document, and signed alerts. */
import { env } from "cloudflare:workers";

export interface SigningKey {
  id: string;
  pair: CryptoKeyPair;
}

export async function newSigningKey(id = crypto.randomUUID()): Promise<SigningKey> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  return { id, pair };
}

async function pem(key: CryptoKey): Promise<string> {
  const der = new Uint8Array((await crypto.subtle.exportKey("spki", key)) as ArrayBuffer);
  const b64 = btoa(String.fromCharCode(...der));
  return `-----BEGIN PUBLIC KEY-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----\n`;
}

/** Publishes GitHub's key document at `url` on the origin fixture (where the Worker's fetches land). */
export async function publishKeys(url: string, keys: SigningKey[]): Promise<void> {
  const public_keys = await Promise.all(
    keys.map(async (k, i) => ({ key_identifier: k.id, key: await pem(k.pair.publicKey), is_current: i === 0 })),
  );
  const response = await env.ORIGIN!.fetch(url, { method: "PUT", body: JSON.stringify({ public_keys }) });
  if (!response.ok) throw new Error(`publish failed: ${response.status}`);
}

/** An unsigned INTEGER as DER: leading zeros dropped, a 0x00 added when the top bit is set. */
function derInteger(bytes: Uint8Array): number[] {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const body = [...bytes.subarray(i)];
  if (body[0]! & 0x80) body.unshift(0);
  return [0x02, body.length, ...body];
}

/** Web Crypto's raw r‖s signature as the DER GitHub sends. */
export function rawToDer(raw: Uint8Array): Uint8Array {
  const seq = [...derInteger(raw.subarray(0, 32)), ...derInteger(raw.subarray(32))];
  return Uint8Array.from([0x30, seq.length, ...seq]);
}

export async function signBody(key: SigningKey, body: string): Promise<string> {
  const raw = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.pair.privateKey, new TextEncoder().encode(body)),
  );
  return btoa(String.fromCharCode(...rawToDer(raw)));
}

export function alertBody(tokens: string[], url = "https://github.com/octo/repo/blob/abc/config.js") {
  return JSON.stringify(tokens.map((token) => ({ token, type: "edge_key_authorizer_secret", url, source: "content" })));
}
