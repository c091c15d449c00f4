/**
 * IP addresses and CIDR allowlists, IPv4 and IPv6. Parsing is strict on purpose: a form that some parser
 * somewhere reads differently (octal "010", hex "0x7f", a zone id "%eth0", host bits set under the mask) is
 * refused when the allowlist is written, so what the operator sees is exactly what is matched.
 */

export interface Cidr {
  /** 4 bytes for IPv4, 16 for IPv6. */
  bytes: Uint8Array;
  prefixLength: number;
}

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!DECIMAL_OCTET.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

export function parseIPv6(text: string): Uint8Array | null {
  if (text.length > 45 || text.includes("%")) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (half: string, mayEndInIPv4: boolean): number[] | null => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (mayEndInIPv4 && i === parts.length - 1 && part.includes(".")) {
        const v4 = parseIPv4(part);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!HEX_GROUP.test(part)) return null;
        out.push(parseInt(part, 16));
      }
    }
    return out;
  };
  const compressed = halves.length === 2;
  const head = groupsOf(halves[0]!, !compressed);
  const tail = compressed ? groupsOf(halves[1]!, true) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  return bytes;
}

/** An IPv4 or IPv6 address as bytes, or null if it is not one in a strict textual form. */
export function parseIp(text: string): Uint8Array | null {
  return text.includes(":") ? parseIPv6(text) : parseIPv4(text);
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), or null. */
function unmapIPv4(bytes: Uint8Array): Uint8Array | null {
  if (bytes.length !== 16) return null;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return null;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return null;
  return bytes.slice(12);
}

function matchesPrefix(address: Uint8Array, cidr: Cidr): boolean {
  if (address.length !== cidr.bytes.length) return false;
  let bits = cidr.prefixLength;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((address[i]! & mask) !== (cidr.bytes[i]! & mask)) return false;
  }
  return true;
}

/**
 * Parses "a.b.c.d/n" or "x:y::z/n" (a bare address means a single host). Refuses masks out of range or
 * with leading zeros, and host bits set below the mask ("10.0.0.1/8" is a typo for "10.0.0.0/8" or "/32").
 */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const bytes = parseIp(addressText);
  if (!bytes) return null;
  const maxBits = bytes.length * 8;
  let prefixLength = maxBits;
  if (slash !== -1) {
    const maskText = text.slice(slash + 1);
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(maskText)) return null;
    prefixLength = Number(maskText);
    if (prefixLength > maxBits) return null;
  }
  const cidr = { bytes, prefixLength };
  // Host bits must be zero: the address must equal itself masked.
  const masked = new Uint8Array(bytes.length);
  for (let i = 0, bits = prefixLength; i < bytes.length && bits > 0; i++, bits -= 8) {
    masked[i] = bytes[i]! & (bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff);
  }
  if (!masked.every((byte, i) => byte === bytes[i])) return null;
  return cidr;
}

/**
 * True if the client address falls inside any of the ranges. An IPv4-mapped IPv6 client address is also
 * tried as the IPv4 address it carries, so "::ffff:203.0.113.7" matches "203.0.113.0/24".
 */
export function ipInRanges(clientIp: string, ranges: readonly Cidr[]): boolean {
  const address = parseIp(clientIp);
  if (!address) return false;
  const mapped = unmapIPv4(address);
  return ranges.some((range) => matchesPrefix(address, range) || (mapped !== null && matchesPrefix(mapped, range)));
}
