/**
 * Strict IPv4/IPv6 and CIDR parsing, and allowlist matching. Every form some parser reads differently is
 * refused, so the allowlist an operator writes is exactly what is matched.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ipInRanges, parseCidr, parseIPv4, parseIPv6, parseIp, type Cidr } from "../../src/util/ip";

/** The 16 bytes of an IPv6 address written as eight 16-bit groups. */
function v6(...groups: number[]): number[] {
  expect(groups).toHaveLength(8);
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

const list = (bytes: Uint8Array | null) => (bytes === null ? null : Array.from(bytes));

function cidrs(...texts: string[]): Cidr[] {
  return texts.map((text) => {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`test range does not parse: ${text}`);
    return cidr;
  });
}

/** Dotted-quad text of a 32-bit unsigned integer. */
function dotted(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join(".");
}

/** Full eight-group text of a 128-bit bigint. */
function fullV6(n: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(":");
}

describe("parseIPv4", () => {
  it.each<[string, number[]]>([
    ["0.0.0.0", [0, 0, 0, 0]],
    ["255.255.255.255", [255, 255, 255, 255]],
    ["203.0.113.7", [203, 0, 113, 7]],
    ["10.20.30.40", [10, 20, 30, 40]],
    ["1.0.0.100", [1, 0, 0, 100]],
  ])("%s", (text, bytes) => {
    expect(list(parseIPv4(text))).toEqual(bytes);
    expect(list(parseIp(text))).toEqual(bytes);
  });

  it.each([
    ["an octet over 255", "256.0.0.1"],
    ["an octet of 999", "1.2.3.999"],
    ["a four-digit octet", "1.2.3.0255"],
    ["octal (leading zero)", "010.0.0.1"],
    ["a doubled zero", "00.0.0.0"],
    ["a leading zero in the last octet", "1.2.3.04"],
    ["hex", "0x7f.0.0.1"],
    ["hex without dots", "0x7f000001"],
    ["a single decimal number", "2130706433"],
    ["the short form a.b", "127.1"],
    ["the short form a.b.c", "127.0.1"],
    ["five octets", "1.2.3.4.5"],
    ["a trailing dot", "1.2.3.4."],
    ["a leading dot", ".1.2.3.4"],
    ["an empty octet", "1..3.4"],
    ["a sign", "1.2.3.+4"],
    ["a negative octet", "1.2.3.-4"],
    ["an exponent", "1e2.0.0.1"],
    ["a leading space", " 1.2.3.4"],
    ["a trailing space", "1.2.3.4 "],
    ["a trailing newline", "1.2.3.4\n"],
    ["full-width digits", "\uff11.2.3.4"],
    ["Arabic-Indic digits", "\u0661.2.3.4"],
    ["a mask", "1.2.3.0/24"],
    ["a port", "1.2.3.4:80"],
    ["the empty string", ""],
  ])("refuses %s: %j", (_label, text) => {
    expect(parseIPv4(text)).toBeNull();
    expect(parseIp(text)).toBeNull();
  });
});

describe("parseIPv6", () => {
  it.each<[string, number[]]>([
    ["::", v6(0, 0, 0, 0, 0, 0, 0, 0)],
    ["::1", v6(0, 0, 0, 0, 0, 0, 0, 1)],
    ["1::", v6(1, 0, 0, 0, 0, 0, 0, 0)],
    ["2001:db8::1", v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)],
    ["2001:DB8::A:b", v6(0x2001, 0xdb8, 0, 0, 0, 0, 0xa, 0xb)],
    ["1:2:3:4:5:6:7:8", v6(1, 2, 3, 4, 5, 6, 7, 8)],
    ["1:2:3:4:5:6:7::", v6(1, 2, 3, 4, 5, 6, 7, 0)],
    ["::2:3:4:5:6:7:8", v6(0, 2, 3, 4, 5, 6, 7, 8)],
    ["1:2::7:8", v6(1, 2, 0, 0, 0, 0, 7, 8)],
    ["fe80::1", v6(0xfe80, 0, 0, 0, 0, 0, 0, 1)],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", v6(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff)],
    ["::ffff:203.0.113.7", v6(0, 0, 0, 0, 0, 0xffff, 0xcb00, 0x7107)],
    ["::ffff:cb00:7107", v6(0, 0, 0, 0, 0, 0xffff, 0xcb00, 0x7107)],
    ["64:ff9b::192.0.2.1", v6(0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0201)],
    ["1:2:3:4:5:6:1.2.3.4", v6(1, 2, 3, 4, 5, 6, 0x0102, 0x0304)],
    ["::1.2.3.4", v6(0, 0, 0, 0, 0, 0, 0x0102, 0x0304)],
    [
      "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
      v6(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff),
    ],
  ])("%s", (text, bytes) => {
    expect(list(parseIPv6(text))).toEqual(bytes);
    expect(list(parseIp(text))).toEqual(bytes);
  });

  it.each([
    ["a zone id", "fe80::1%eth0"],
    ["a numeric zone id", "fe80::1%1"],
    ["a percent-encoded zone id", "fe80::1%25eth0"],
    ["an empty zone id", "fe80::1%"],
    ["two '::'", "1::2::3"],
    ["two '::' at the ends", "::1::"],
    ["':::'", ":::"],
    ["'::' standing for no group", "::1:2:3:4:5:6:7:8"],
    ["'::' after eight groups", "1:2:3:4:5:6:7:8::"],
    ["nine groups", "1:2:3:4:5:6:7:8:9"],
    ["seven groups without '::'", "1:2:3:4:5:6:7"],
    ["a leading single colon", ":1:2:3:4:5:6:7"],
    ["a trailing single colon", "1:2:3:4:5:6:7:"],
    ["a five-digit group", "12345::"],
    ["a non-hex group", "g::1"],
    ["a 0x group", "0x1::"],
    ["an empty group", "1:2::3:4:5:6:7:"],
    ["IPv4 before '::'", "1.2.3.4::"],
    ["IPv4 before the last group", "::1.2.3.4:1"],
    ["IPv4 in the middle", "1:2:3:1.2.3.4:5:6:7"],
    ["IPv4 making nine groups", "1:2:3:4:5:6:7:1.2.3.4"],
    ["IPv4 with '::' making too many groups", "1:2:3:4:5:6:7::1.2.3.4"],
    ["a short embedded IPv4", "::ffff:1.2.3"],
    ["an octal embedded IPv4", "::ffff:010.0.0.1"],
    ["a hex embedded IPv4", "::ffff:0x7f.0.0.1"],
    ["an embedded IPv4 over 255", "::ffff:1.2.3.256"],
    ["brackets", "[::1]"],
    ["a trailing space", "::1 "],
    ["a space inside", ":: 1"],
    ["a mask", "2001:db8::/32"],
    ["a single colon", ":"],
    ["the empty string", ""],
    ["a full-width colon", "::\uff11"],
    ["over 45 characters", "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000"],
  ])("refuses %s: %j", (_label, text) => {
    expect(parseIPv6(text)).toBeNull();
    expect(parseIp(text)).toBeNull();
  });

  it("reads any full eight-group form as the number it writes (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (n) => {
        const bytes = parseIPv6(fullV6(n));
        expect(bytes).not.toBeNull();
        let back = 0n;
        for (const b of bytes!) back = (back << 8n) | BigInt(b);
        expect(back).toBe(n);
      }),
      { numRuns: 500 },
    );
  });

  it("reads every '::' compression of an address as the same bytes (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 1, max: 8 }),
        (groups, start, length) => {
          const end = Math.min(8, start + length);
          const zeroed = groups.map((g, i) => (i >= start && i < end ? 0 : g));
          const hex = zeroed.map((g) => g.toString(16));
          const text = `${hex.slice(0, start).join(":")}::${hex.slice(end).join(":")}`;
          expect(list(parseIPv6(text)), text).toEqual(v6(...zeroed));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("parseCidr", () => {
  it.each<[string, number, number]>([
    ["0.0.0.0/0", 4, 0],
    ["128.0.0.0/1", 4, 1],
    ["10.0.0.0/8", 4, 8],
    ["203.0.113.0/24", 4, 24],
    ["10.0.0.128/25", 4, 25],
    ["203.0.113.7/32", 4, 32],
    ["203.0.113.7", 4, 32],
    ["::/0", 16, 0],
    ["2001:db8::/32", 16, 32],
    ["2001:db8:8000::/33", 16, 33],
    ["::ffff:203.0.113.0/120", 16, 120],
    ["::1/128", 16, 128],
    ["::1", 16, 128],
    ["2001:db8::1/128", 16, 128],
  ])("%s → %d bytes, /%d", (text, length, prefixLength) => {
    const cidr = parseCidr(text);
    expect(cidr).not.toBeNull();
    expect(cidr!.bytes).toHaveLength(length);
    expect(cidr!.prefixLength).toBe(prefixLength);
  });

  it.each([
    ["host bits set under /8", "10.0.0.1/8"],
    ["host bits set under /0", "0.0.0.1/0"],
    ["host bits set under /24", "203.0.113.7/24"],
    ["host bits set under /25", "10.0.0.64/25"],
    ["host bits set under /24 (bit 25)", "10.0.0.128/24"],
    ["host bits set under /31", "10.0.0.1/31"],
    ["IPv6 host bits set under /32", "2001:db8::1/32"],
    ["IPv6 host bits set under /32 (bit 33)", "2001:db8:8000::/32"],
    ["IPv6 host bits set under /127", "::1/127"],
    ["IPv6 host bits set under /0", "::1/0"],
    ["/33 on IPv4", "1.2.3.4/33"],
    ["/129 on IPv6", "::/129"],
    ["/-1", "1.2.3.4/-1"],
    ["/01", "0.0.0.0/01"],
    ["/00", "0.0.0.0/00"],
    ["/032", "1.2.3.4/032"],
    ["/+8", "10.0.0.0/+8"],
    ["/0x8", "10.0.0.0/0x8"],
    ["/8.0", "10.0.0.0/8.0"],
    ["/1000", "1.2.3.4/1000"],
    ["a huge mask", "1.2.3.4/4294967328"],
    ["an empty mask", "1.2.3.4/"],
    ["a space before the mask", "10.0.0.0/ 8"],
    ["a trailing space", "10.0.0.0/8 "],
    ["two masks", "10.0.0.0/8/8"],
    ["a dotted netmask", "10.0.0.0/255.0.0.0"],
    ["no address", "/8"],
    ["octal", "010.0.0.0/8"],
    ["hex", "0x7f.0.0.0/8"],
    ["a short form", "127.1/32"],
    ["a short form without a mask", "127.1"],
    ["a zone id", "fe80::1%eth0/128"],
    ["a zone id on a network", "fe80::%eth0/64"],
    ["a zone id without a mask", "fe80::1%eth0"],
    ["two '::'", "1::2::/64"],
    ["brackets", "[::1]/128"],
    ["the empty string", ""],
  ])("refuses %s: %j", (_label, text) => {
    expect(parseCidr(text)).toBeNull();
  });
});

describe("ipInRanges", () => {
  it.each<[string, string[], boolean]>([
    ["203.0.113.7", ["203.0.113.0/24"], true],
    ["203.0.113.0", ["203.0.113.0/24"], true],
    ["203.0.113.255", ["203.0.113.0/24"], true],
    ["203.0.114.0", ["203.0.113.0/24"], false],
    ["203.0.112.255", ["203.0.113.0/24"], false],
    ["203.0.113.7", ["203.0.113.7/32"], true],
    ["203.0.113.7", ["203.0.113.7"], true],
    ["203.0.113.8", ["203.0.113.7/32"], false],
    ["203.0.113.6", ["203.0.113.7/32"], false],
    ["10.0.0.200", ["10.0.0.128/25"], true],
    ["10.0.0.127", ["10.0.0.128/25"], false],
    ["203.0.113.7", ["0.0.0.0/0"], true],
    ["255.255.255.255", ["0.0.0.0/0"], true],
    ["0.0.0.0", ["0.0.0.0/0"], true],
    ["203.0.113.7", ["192.0.2.0/24", "203.0.113.0/24"], true],
    ["198.51.100.1", ["192.0.2.0/24", "203.0.113.0/24"], false],
    ["203.0.113.7", [], false],
    // IPv4-mapped IPv6 clients are matched against IPv4 ranges.
    ["::ffff:203.0.113.7", ["203.0.113.0/24"], true],
    ["::FFFF:203.0.113.7", ["203.0.113.0/24"], true],
    ["::ffff:cb00:7107", ["203.0.113.0/24"], true],
    ["0:0:0:0:0:ffff:203.0.113.7", ["203.0.113.7/32"], true],
    ["::ffff:203.0.114.7", ["203.0.113.0/24"], false],
    ["::ffff:203.0.113.7", ["0.0.0.0/0"], true],
    ["::ffff:203.0.113.7", ["::ffff:203.0.113.0/120"], true],
    // Addresses that merely embed an IPv4 address are not mapped addresses.
    ["::203.0.113.7", ["203.0.113.0/24"], false],
    ["64:ff9b::203.0.113.7", ["203.0.113.0/24"], false],
    ["::fffe:203.0.113.7", ["203.0.113.0/24"], false],
    ["1::ffff:203.0.113.7", ["203.0.113.0/24"], false],
    // IPv6.
    ["2001:db8::1", ["2001:db8::/32"], true],
    ["2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", ["2001:db8::/32"], true],
    ["2001:db9::", ["2001:db8::/32"], false],
    ["2001:db8:7fff::1", ["2001:db8::/33"], true],
    ["2001:db8:8000::", ["2001:db8::/33"], false],
    ["2001:db8::1", ["2001:db8::1/128"], true],
    ["2001:0db8:0:0:0:0:0:0001", ["2001:db8::1/128"], true],
    ["2001:db8::2", ["2001:db8::1/128"], false],
    ["2001:db8::1", ["::/0"], true],
    ["::", ["::/0"], true],
    // Families do not mix: an IPv6 client is not inside an IPv4 range.
    ["2001:db8::1", ["0.0.0.0/0"], false],
    ["::1", ["0.0.0.0/0"], false],
    // Malformed client addresses never match, even "everything".
    ["fe80::1%eth0", ["::/0"], false],
    ["fe80::1%eth0", ["fe80::1/128"], false],
    ["010.0.0.1", ["0.0.0.0/0"], false],
    ["0x7f.0.0.1", ["0.0.0.0/0"], false],
    ["127.1", ["0.0.0.0/0"], false],
    ["1::2::3", ["::/0"], false],
    ["unknown", ["0.0.0.0/0", "::/0"], false],
    ["", ["0.0.0.0/0", "::/0"], false],
    [" 203.0.113.7", ["0.0.0.0/0"], false],
  ])("%j in %j → %s", (client, ranges, expected) => {
    expect(ipInRanges(client, cidrs(...ranges))).toBe(expected);
  });

  const ipv4 = fc.integer({ min: 0, max: 0xffffffff });
  const maskOf = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

  it("an IPv4 address is inside the CIDR made by masking it, and its neighbours outside are not (property)", () => {
    fc.assert(
      fc.property(ipv4, fc.integer({ min: 0, max: 32 }), (address, prefix) => {
        const network = (address & maskOf(prefix)) >>> 0;
        const range = parseCidr(`${dotted(network)}/${prefix}`);
        expect(range).not.toBeNull();
        expect(ipInRanges(dotted(address), [range!])).toBe(true);
        expect(ipInRanges(`::ffff:${dotted(address)}`, [range!])).toBe(true);
        const size = 2 ** (32 - prefix);
        const below = network - 1;
        const above = network + size;
        if (below >= 0) {
          expect(ipInRanges(dotted(below), [range!])).toBe(false);
          expect(ipInRanges(`::ffff:${dotted(below)}`, [range!])).toBe(false);
        }
        if (above <= 0xffffffff) {
          expect(ipInRanges(dotted(above), [range!])).toBe(false);
          expect(ipInRanges(`::ffff:${dotted(above)}`, [range!])).toBe(false);
        }
        // The first and last address of the range are inside it.
        expect(ipInRanges(dotted(network), [range!])).toBe(true);
        expect(ipInRanges(dotted(network + size - 1), [range!])).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("the same CIDR with the host bits left in is refused (property)", () => {
    fc.assert(
      fc.property(ipv4, fc.integer({ min: 0, max: 32 }), (address, prefix) => {
        const network = (address & maskOf(prefix)) >>> 0;
        const parsed = parseCidr(`${dotted(address)}/${prefix}`);
        if (address === network) expect(parsed).not.toBeNull();
        else expect(parsed).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it("an IPv6 address is inside the CIDR made by masking it, and its neighbours outside are not (property)", () => {
    const all = (1n << 128n) - 1n;
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: all }), fc.integer({ min: 0, max: 128 }), (address, prefix) => {
        const hostBits = BigInt(128 - prefix);
        const network = (address >> hostBits) << hostBits;
        const range = parseCidr(`${fullV6(network)}/${prefix}`);
        expect(range).not.toBeNull();
        expect(ipInRanges(fullV6(address), [range!])).toBe(true);
        const below = network - 1n;
        const above = network + (1n << hostBits);
        if (below >= 0n) expect(ipInRanges(fullV6(below), [range!])).toBe(false);
        if (above <= all) expect(ipInRanges(fullV6(above), [range!])).toBe(false);
        if (address !== network) expect(parseCidr(`${fullV6(address)}/${prefix}`)).toBeNull();
      }),
      { numRuns: 1000 },
    );
  });
});
