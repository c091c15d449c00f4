/**
 * CIDR matching (src/util/ip.ts) against a straightforward reference: addresses as BigInts, a range
 * as (network >> host bits) compared with (address >> host bits). Random addresses, random prefixes, ranges
 * near the address (so that both answers are common), in many textual spellings, IPv4, IPv6 and IPv4-mapped.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ipInRanges, parseCidr } from "../../src/util/ip";

type Family = 4 | 6;
interface Address {
  family: Family;
  value: bigint;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };
const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96

/** The reference: is `address` inside `network/prefix`? An IPv4-mapped IPv6 address also counts as its IPv4 address. */
function referenceInRange(address: Address, network: Address, prefix: number): boolean {
  const candidates: Address[] = [address];
  if (address.family === 6 && address.value >> 32n === 0xffffn)
    candidates.push({ family: 4, value: address.value & 0xffffffffn });
  return candidates.some((a) => {
    if (a.family !== network.family) return false;
    const host = BigInt(BITS[a.family] - prefix);
    return a.value >> host === network.value >> host;
  });
}

const maskTo = (a: Address, prefix: number): Address => {
  const host = BigInt(BITS[a.family] - prefix);
  return { family: a.family, value: (a.value >> host) << host };
};

function v4Text(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
}

/** An IPv6 address in one of the spellings the parser must read alike: full, zero-padded, upper case, "::"-compressed at any run of zeros, or with a dotted IPv4 tail. */
function v6Text(value: bigint, style: number): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  const hex = (g: number) =>
    style % 3 === 1 ? g.toString(16).padStart(4, "0") : style % 3 === 2 ? g.toString(16).toUpperCase() : g.toString(16);
  if (style % 5 === 4) {
    // Dotted tail: x:x:x:x:x:x:a.b.c.d
    return `${groups.slice(0, 6).map(hex).join(":")}:${v4Text(value & 0xffffffffn)}`;
  }
  if (style % 2 === 1) {
    // Compress the first run of zero groups, if any.
    const start = groups.indexOf(0);
    if (start !== -1) {
      let end = start;
      while (end < 8 && groups[end] === 0) end++;
      return `${groups.slice(0, start).map(hex).join(":")}::${groups.slice(end).map(hex).join(":")}`;
    }
  }
  return groups.map(hex).join(":");
}

const text = (a: Address, style: number) => (a.family === 4 ? v4Text(a.value) : v6Text(a.value, style));

const v4 = fc.bigInt({ min: 0n, max: 0xffffffffn }).map((value): Address => ({ family: 4, value }));
const v6 = fc
  .oneof(
    fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
    // Addresses with runs of zeros, so "::" forms are common.
    fc
      .tuple(fc.bigInt({ min: 0n, max: 0xffffn }), fc.bigInt({ min: 0n, max: 0xffffn }), fc.nat({ max: 112 }))
      .map(([a, b, shift]) => (a << 112n) | (b << BigInt(shift))),
  )
  .map((value): Address => ({ family: 6, value }));
const mapped = v4.map((a): Address => ({ family: 6, value: MAPPED_PREFIX | a.value }));
// Addresses one step from being IPv4-mapped: another value in the ffff group, or a bit set above it.
const nearMapped = fc
  .tuple(
    v4,
    fc.constantFrom(
      0xfffen,
      0xff00n,
      0x00ffn,
      0x7fffn,
      0n,
      0xffffn | (1n << 16n),
      0xffffn | (1n << 79n),
      0x64ff9bn << 64n,
    ),
  )
  .map(([a, high]): Address => ({ family: 6, value: (high << 32n) | a.value }));
const address = fc.oneof(v4, v6, mapped, nearMapped);

/** A range near `a`: its own network (or that of the IPv4 address it may carry) at a random prefix, with some bits of the network flipped at times. */
function rangeNear(a: Address) {
  // The address itself, the IPv4 address in its low 32 bits (mapped or not), or anything.
  const embedded: Address = { family: 4, value: a.value & 0xffffffffn };
  const family = fc.oneof(
    { weight: 3, arbitrary: fc.constant(a) },
    { weight: a.family === 6 ? 2 : 0, arbitrary: fc.constant(embedded) },
    { weight: 1, arbitrary: fc.oneof(v4, v6) },
  );
  return family.chain((base) =>
    fc
      .tuple(fc.nat({ max: BITS[base.family] }), fc.nat({ max: BITS[base.family] - 1 }), fc.boolean())
      .map(([prefix, flip, doFlip]) => {
        const value = doFlip ? base.value ^ (1n << BigInt(flip)) : base.value;
        return { network: maskTo({ family: base.family, value }, prefix), prefix };
      }),
  );
}

describe("CIDR matching agrees with a reference implementation (properties)", () => {
  it("for any address and a range near it, in any spelling of both", () => {
    fc.assert(
      fc.property(
        address.chain((a) =>
          fc.tuple(
            fc.constant(a),
            fc.array(rangeNear(a), { minLength: 1, maxLength: 3 }),
            fc.nat({ max: 29 }),
            fc.nat({ max: 29 }),
          ),
        ),
        ([a, ranges, clientStyle, rangeStyle]) => {
          const cidrs = ranges.map(({ network, prefix }) => parseCidr(`${text(network, rangeStyle)}/${prefix}`));
          expect(cidrs.every((c) => c !== null)).toBe(true);
          const expected = ranges.some(({ network, prefix }) => referenceInRange(a, network, prefix));
          expect(ipInRanges(text(a, clientStyle), cidrs as NonNullable<(typeof cidrs)[number]>[])).toBe(expected);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("a range written with host bits below its prefix is refused, never widened or narrowed", () => {
    fc.assert(
      fc.property(address, fc.nat({ max: 127 }), (a, p) => {
        const prefix = p % BITS[a.family];
        fc.pre(maskTo(a, prefix).value !== a.value);
        expect(parseCidr(`${text(a, 0)}/${prefix}`)).toBeNull();
      }),
    );
  });
});
