import { isPublicAddress, nonPublicAddressReason } from '../../../shared/images/ip-policy';

describe('isPublicAddress: IPv4', () => {
  test.each([
    // range, inside (refused), just outside (allowed) where the boundary is meaningful
    ['0.0.0.0/8 "this network"', ['0.0.0.0', '0.255.255.255'], ['1.0.0.0']],
    ['10.0.0.0/8 private', ['10.0.0.0', '10.0.0.1', '10.255.255.255'], ['9.255.255.255', '11.0.0.0']],
    [
      '100.64.0.0/10 CGNAT',
      ['100.64.0.0', '100.100.100.200', '100.127.255.255'],
      ['100.63.255.255', '100.128.0.0'],
    ],
    ['127.0.0.0/8 loopback', ['127.0.0.1', '127.0.0.2', '127.255.255.255'], ['128.0.0.0', '126.255.255.255']],
    [
      '169.254.0.0/16 link-local + metadata',
      ['169.254.0.1', '169.254.169.254'],
      ['169.253.255.255', '169.255.0.0'],
    ],
    ['172.16.0.0/12 private', ['172.16.0.0', '172.31.255.255'], ['172.15.255.255', '172.32.0.0']],
    ['192.0.0.0/24 IETF', ['192.0.0.1', '192.0.0.170'], ['192.0.1.0']],
    ['192.0.2.0/24 TEST-NET-1', ['192.0.2.1'], ['192.0.3.0']],
    ['192.88.99.0/24 6to4 relay', ['192.88.99.1'], ['192.88.98.255']],
    ['192.168.0.0/16 private', ['192.168.0.1', '192.168.255.255'], ['192.167.255.255', '192.169.0.0']],
    ['198.18.0.0/15 benchmarking', ['198.18.0.0', '198.19.255.255'], ['198.17.255.255', '198.20.0.0']],
    ['198.51.100.0/24 TEST-NET-2', ['198.51.100.7'], ['198.51.101.0']],
    ['203.0.113.0/24 TEST-NET-3', ['203.0.113.9'], ['203.0.114.0']],
    ['224.0.0.0/4 multicast', ['224.0.0.1', '239.255.255.250'], ['223.255.255.255']],
    ['240.0.0.0/4 reserved + broadcast', ['240.0.0.1', '255.255.255.255'], []],
  ])('%s', (_range, refused, allowed) => {
    for (const ip of refused) expect([ip, isPublicAddress(ip)]).toEqual([ip, false]);
    for (const ip of allowed) expect([ip, isPublicAddress(ip)]).toEqual([ip, true]);
  });

  test.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '52.95.110.1'])('%s is public', (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });
});

describe('isPublicAddress: IPv6', () => {
  test.each([
    ['unspecified', '::'],
    ['loopback', '::1'],
    ['loopback, long form', '0:0:0:0:0:0:0:1'],
    ['IPv4-mapped loopback, dotted', '::ffff:127.0.0.1'],
    ['IPv4-mapped loopback, hex (as the URL parser writes it)', '::ffff:7f00:1'],
    ['IPv4-mapped metadata', '::ffff:169.254.169.254'],
    ['IPv4-mapped private', '::ffff:a00:1'],
    ['IPv4-compatible loopback', '::127.0.0.1'],
    ['IPv4-compatible private', '::10.0.0.1'],
    ['IPv4-translated loopback', '::ffff:0:127.0.0.1'],
    ['NAT64 with private IPv4', '64:ff9b::10.0.0.1'],
    ['NAT64 with loopback, hex', '64:ff9b::7f00:1'],
    ['NAT64 with metadata', '64:ff9b::a9fe:a9fe'],
    ['local-use NAT64', '64:ff9b:1::1'],
    ['6to4 with private IPv4', '2002:a00:1::1'],
    ['6to4 with loopback', '2002:7f00:1::'],
    ['6to4 with metadata', '2002:a9fe:a9fe::1'],
    ['Teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
    ['benchmarking', '2001:2::1'],
    ['documentation 2001:db8::/32', '2001:db8::1'],
    ['documentation 3fff::/20', '3fff:fff::1'],
    ['unique local', 'fc00::1'],
    ['unique local, AWS metadata', 'fd00:ec2::254'],
    ['link-local', 'fe80::1'],
    ['link-local upper bound', 'febf:ffff::1'],
    ['link-local with zone id', 'fe80::1%eth0'],
    ['site-local', 'fec0::1'],
    ['multicast', 'ff02::1'],
    ['discard-only', '100::1'],
    ['outside global unicast', '4000::1'],
  ])('%s (%s) is refused', (_name, ip) => {
    expect(isPublicAddress(ip)).toBe(false);
    expect(nonPublicAddressReason(ip)).toEqual(expect.any(String));
  });

  test.each([
    ['Google DNS', '2001:4860:4860::8888'],
    ['Cloudflare', '2606:4700:4700::1111'],
    ['IPv4-mapped public', '::ffff:8.8.8.8'],
    ['NAT64 with public IPv4', '64:ff9b::808:808'],
    ['6to4 with public IPv4', '2002:808:808::1'],
    ['just past 2001::/23', '2001:200::1'],
    ['just past 3fff::/20', '3fff:1000::1'],
  ])('%s (%s) is public', (_name, ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  test('names the reason, including the embedded IPv4 one', () => {
    expect(nonPublicAddressReason('::ffff:7f00:1')).toMatch(/IPv4-mapped.*loopback/);
    expect(nonPublicAddressReason('169.254.169.254')).toMatch(/metadata/);
  });
});

describe('isPublicAddress: not addresses at all', () => {
  test.each([
    'localhost',
    'example.com',
    '2130706433',
    '0x7f000001',
    '0177.0.0.1',
    '127.1',
    '',
    ' 8.8.8.8',
    '[::1]',
  ])('%j fails closed', (text) => {
    expect(isPublicAddress(text)).toBe(false);
  });
});
