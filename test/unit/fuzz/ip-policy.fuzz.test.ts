// Fuzzes the SSRF policy: every spelling of a non-public address (IPv4 dotted, the URL parser's
// integer/octal/hex forms, IPv4-mapped/compatible/translated IPv6, NAT64, 6to4, bracketed, with
// a zone id) is refused; public addresses are allowed. The ranges below are an independent
// oracle written from the IANA special-purpose registries, not read from the policy.
import fc from 'fast-check';
import { isPublicAddress } from '../../../shared/images/ip-policy';
import { assertFetchableUrl } from '../../../shared/images/url-policy';
import { fuzz } from './fuzz-settings';

const NON_PUBLIC_V4: [number, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
].map(([a, bits]) => [toInt(a as string), bits as number]);

function toInt(dotted: string): number {
  return dotted.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const hex16 = (n: number) => n.toString(16);
const inRange = (n: number, [base, bits]: [number, number]) =>
  bits === 0 || Math.floor(n / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits));

const privateV4 = fc
  .tuple(fc.constantFrom(...NON_PUBLIC_V4), fc.nat())
  .map(([[base, bits], r]) => base + (r % 2 ** (32 - bits)));
const publicV4 = fc
  .integer({ min: 0, max: 0xffffffff })
  .filter((n) => !NON_PUBLIC_V4.some((range) => inRange(n, range)));

/** Every IPv6 spelling that embeds an IPv4 address, which then decides. */
function embeddingForms(n: number): string[] {
  const hi = hex16(n >>> 16);
  const lo = hex16(n & 0xffff);
  return [
    `::ffff:${dotted(n)}`,
    `::ffff:${hi}:${lo}`,
    `0:0:0:0:0:ffff:${hi}:${lo}`,
    `::${dotted(n)}`,
    `::ffff:0:${dotted(n)}`,
    `64:ff9b::${dotted(n)}`,
    `64:ff9b::${hi}:${lo}`,
    `2002:${hi}:${lo}::1`,
  ];
}

/** What the WHATWG URL parser turns into the same IPv4 address. */
function urlForms(n: number): string[] {
  return [`${n}`, `0x${n.toString(16)}`, `0${n.toString(8)}`, dotted(n), `${n >>> 24}.${n & 0xffffff}`];
}

const refusedUrl = (host: string) => {
  expect(() =>
    assertFetchableUrl(`https://${host}/a.png`, { allowHttp: false, addressPolicy: isPublicAddress }),
  ).toThrow();
};

test('a non-public IPv4 address is refused in every spelling', () => {
  fc.assert(
    fc.property(privateV4, (n) => {
      expect(isPublicAddress(dotted(n))).toBe(false);
      for (const form of embeddingForms(n)) expect([form, isPublicAddress(form)]).toEqual([form, false]);
      for (const form of urlForms(n)) refusedUrl(form);
      for (const form of embeddingForms(n)) refusedUrl(`[${form}]`);
    }),
    fuzz(150),
  );
});

test('a public IPv4 address is allowed, plain and mapped', () => {
  fc.assert(
    fc.property(publicV4, (n) => {
      expect(isPublicAddress(dotted(n))).toBe(true);
      expect(isPublicAddress(`::ffff:${dotted(n)}`)).toBe(true);
      expect(() =>
        assertFetchableUrl(`https://${n}/a.png`, { allowHttp: false, addressPolicy: isPublicAddress }),
      ).not.toThrow();
    }),
    fuzz(400),
  );
});

const group = fc.integer({ min: 0, max: 0xffff }).map(hex16);
const groups = (k: number) => fc.array(group, { minLength: k, maxLength: k }).map((g) => g.join(':'));

test('non-public IPv6 (loopback, unspecified, link-local, ULA, multicast, site-local, zone ids) is refused', () => {
  const nonPublicV6 = fc.oneof(
    fc.constantFrom('::1', '::', '0:0:0:0:0:0:0:1', 'fd00:ec2::254'),
    groups(7).map((g) => `fe80:${g}`),
    groups(7).map((g) => `fd12:${g}`),
    groups(7).map((g) => `fc00:${g}`),
    groups(7).map((g) => `ff02:${g}`),
    groups(7).map((g) => `fec0:${g}`),
    groups(6).map((g) => `2001:db8:${g}`),
    groups(6).map((g) => `2001:0:${g}`),
    groups(7).map((g) => `fe80:${g}%eth0`),
  );
  fc.assert(
    fc.property(nonPublicV6, (ip) => {
      expect([ip, isPublicAddress(ip)]).toEqual([ip, false]);
      if (!ip.includes('%')) refusedUrl(`[${ip}]`);
    }),
    fuzz(400),
  );
});

test('public IPv6 (global unicast outside special blocks) is allowed', () => {
  const first = fc.integer({ min: 0x2400, max: 0x2fff }).map(hex16);
  fc.assert(
    fc.property(first, groups(7), (f, g) => {
      expect(isPublicAddress(`${f}:${g}`)).toBe(true);
    }),
    fuzz(300),
  );
});

test('anything that is not a plain address literal is refused by the policy', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      if (isPublicAddress(s)) expect(s).toMatch(/^[0-9a-f.:]+$/i);
    }),
    fuzz(500),
  );
});
