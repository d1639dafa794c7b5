// Decides whether an IP address is on the public internet, so a user-supplied image URL can
// never make this server reach loopback, the VPC, or the cloud metadata service (SSRF).
// Fails closed: anything unparseable or unusual is "not public".
import { isIPv4, isIPv6 } from 'node:net';

type V4Range = { base: number; bits: number; reason: string };
type V6Range = { prefix: Uint8Array; bits: number; reason: string };

/** IPv4 ranges that are not globally reachable unicast (IANA special-purpose registry and friends). */
const BLOCKED_V4: readonly V4Range[] = [
  v4('0.0.0.0/8', '"this network"'),
  v4('10.0.0.0/8', 'private network'),
  v4('100.64.0.0/10', 'carrier-grade NAT (also Alibaba Cloud metadata 100.100.100.200)'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local (includes cloud metadata 169.254.169.254)'),
  v4('172.16.0.0/12', 'private network'),
  v4('192.0.0.0/24', 'IETF protocol assignments'),
  v4('192.0.2.0/24', 'documentation (TEST-NET-1)'),
  v4('192.88.99.0/24', '6to4 relay anycast'),
  v4('192.168.0.0/16', 'private network'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation (TEST-NET-2)'),
  v4('203.0.113.0/24', 'documentation (TEST-NET-3)'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved (includes broadcast 255.255.255.255)'),
];

/**
 * IPv6 ranges refused outright. Everything outside 2000::/3 (global unicast) is refused as
 * well; the entries below that lie outside it are listed to name the reason.
 */
const BLOCKED_V6: readonly V6Range[] = [
  v6('64:ff9b:1::/48', 'local-use NAT64'),
  v6('2001::/23', 'IETF protocol assignments (includes Teredo 2001::/32)'),
  v6('2001:db8::/32', 'documentation'),
  v6('3fff::/20', 'documentation'),
  v6('fc00::/7', 'unique local (includes AWS metadata fd00:ec2::254)'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'site-local (deprecated)'),
  v6('ff00::/8', 'multicast'),
];
const GLOBAL_UNICAST_V6 = v6('2000::/3', 'global unicast');

/** IPv6 prefixes that carry an IPv4 address, which then decides. */
const NAT64_WELL_KNOWN = v6('64:ff9b::/96', 'NAT64');
const SIX_TO_FOUR = v6('2002::/16', '6to4');

function parseV4(text: string): number {
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** 16 bytes of a textual IPv6 address already validated by `isIPv6` (no zone id). */
function parseV6(text: string): Uint8Array {
  const bytes = new Uint8Array(16);
  let body = text;
  let embeddedV4: number | null = null;
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.', lastColon)) {
    // "::ffff:1.2.3.4": the dotted tail fills the last two groups.
    embeddedV4 = parseV4(body.slice(lastColon + 1));
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', tail] = body.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : zeros).fill('0'), ...tailGroups];
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  if (embeddedV4 !== null) {
    bytes[12] = embeddedV4 >>> 24;
    bytes[13] = (embeddedV4 >>> 16) & 0xff;
    bytes[14] = (embeddedV4 >>> 8) & 0xff;
    bytes[15] = embeddedV4 & 0xff;
  }
  return bytes;
}

function v4(cidr: string, reason: string): V4Range {
  const [address, bits] = cidr.split('/') as [string, string];
  return { base: parseV4(address), bits: Number(bits), reason };
}

function v6(cidr: string, reason: string): V6Range {
  const [address, bits] = cidr.split('/') as [string, string];
  return { prefix: parseV6(address), bits: Number(bits), reason };
}

function inV4(address: number, range: V4Range): boolean {
  if (range.bits === 0) return true;
  const mask = (0xffffffff << (32 - range.bits)) >>> 0;
  return (address & mask) >>> 0 === (range.base & mask) >>> 0;
}

function inV6(bytes: Uint8Array, range: V6Range): boolean {
  const whole = Math.floor(range.bits / 8);
  for (let i = 0; i < whole; i++) if (bytes[i] !== range.prefix[i]) return false;
  const rest = range.bits % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[whole]! & mask) === (range.prefix[whole]! & mask);
}

function v4BlockReason(address: number): string | null {
  return BLOCKED_V4.find((range) => inV4(address, range))?.reason ?? null;
}

function v4From(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

function embedded(kind: string, reason: string | null): string | null {
  return reason === null ? null : `${kind} of an IPv4 address that is ${reason}`;
}

function v6BlockReason(bytes: Uint8Array): string | null {
  if (allZero(bytes, 0, 16)) return 'unspecified address';
  if (allZero(bytes, 0, 15) && bytes[15] === 1) return 'loopback';
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated): the IPv4 address decides.
  if (allZero(bytes, 0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return embedded('IPv4-mapped form', v4BlockReason(v4From(bytes, 12)));
  }
  if (allZero(bytes, 0, 12)) return embedded('IPv4-compatible form', v4BlockReason(v4From(bytes, 12)));
  // ::ffff:0:a.b.c.d (SIIT "IPv4-translated").
  if (allZero(bytes, 0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && allZero(bytes, 10, 12)) {
    return embedded('IPv4-translated form', v4BlockReason(v4From(bytes, 12)));
  }
  if (inV6(bytes, NAT64_WELL_KNOWN)) return embedded('NAT64 form', v4BlockReason(v4From(bytes, 12)));
  if (inV6(bytes, SIX_TO_FOUR)) return embedded('6to4 form', v4BlockReason(v4From(bytes, 2)));
  const listed = BLOCKED_V6.find((range) => inV6(bytes, range));
  if (listed) return listed.reason;
  if (!inV6(bytes, GLOBAL_UNICAST_V6)) return 'outside IPv6 global unicast space';
  return null;
}

/**
 * Why `ip` is not a public internet address, or null when it is. Anything that is not a
 * plain IPv4 dotted quad or IPv6 address (a host name, "0x7f.1", a zone id) gets a reason.
 */
export function nonPublicAddressReason(ip: string): string | null {
  if (isIPv4(ip)) return v4BlockReason(parseV4(ip));
  // A zone id (fe80::1%eth0) only exists for scoped, non-global addresses.
  if (ip.includes('%')) return 'scoped address with a zone id';
  if (isIPv6(ip)) return v6BlockReason(parseV6(ip));
  return 'not an IP address';
}

/** True only for globally reachable unicast addresses. */
export function isPublicAddress(ip: string): boolean {
  return nonPublicAddressReason(ip) === null;
}
