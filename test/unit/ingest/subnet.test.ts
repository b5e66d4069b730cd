import {
  canonicalIp,
  canonicalRange,
  canonicalSubnet,
  subnetHint,
  subnetOf,
} from '../../../src/ingest/subnet';

describe('subnet derivation', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3', '10.1.2.0/24'],
    ['192.168.0.255', '192.168.0.255', '192.168.0.0/24'],
    ['2001:DB8::1', '2001:db8::1', '2001:db8::/48'],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1', '2001:db8::/48'],
    ['2001:db8:abcd:12:0:0:0:1', '2001:db8:abcd:12::1', '2001:db8:abcd::/48'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1', '2001::/48'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8', '1:2:3::/48'],
    ['::ffff:1.2.3.4', '1.2.3.4', '1.2.3.0/24'],
    ['::1', '::1', '::/48'],
  ])('%s → %s in %s', (input, canonical, subnet) => {
    expect(canonicalIp(input)).toBe(canonical);
    expect(subnetOf(input)).toBe(subnet);
  });

  it('refuses what is not an address', () => {
    expect(() => canonicalIp('10.0.0.256')).toThrow();
    expect(() => subnetOf('example.com')).toThrow();
  });
});

describe('canonicalSubnet', () => {
  it.each([
    ['10.1.2.0/24', '10.1.2.0/24'],
    ['10.1.2.77/24', '10.1.2.0/24'],
    ['2001:DB8:1::/48', '2001:db8:1::/48'],
    ['2001:db8:1:ffff::1/48', '2001:db8:1::/48'],
  ])('%s → %s', (input, canonical) => {
    expect(canonicalSubnet(input)).toBe(canonical);
  });

  it.each(['10.1.2.0', '10.1.2.0/16', '10.1.2.0/', '/24', '2001:db8::/64', 'nope/24'])(
    'refuses %s: the graph holds /24 and /48 subnets only',
    (input) => {
      expect(canonicalSubnet(input)).toBeNull();
    },
  );

  it.each([
    '::ffff:10.1.2.7/48',
    '::ffff:10.1.2.7/24',
    '::ffff:10.1.2.0/120',
    '::FFFF:a01:207/48',
    '0:0:0:0:0:ffff:10.1.2.7/48',
  ])('refuses the IPv4-mapped %s, and says to write its IPv4 /24', (input) => {
    // Review, 12-03: the /48 form became 10.1.2.0/24 (a /24 nobody wrote; the /48 that
    // holds ::ffff:10.1.2.7 is ::/48) while the /24 form was refused.
    expect(canonicalSubnet(input)).toBeNull();
    expect(subnetHint(input)).toBe(
      'must be given as its IPv4 /24, 10.1.2.0/24: an IPv4-mapped IPv6 address is stored as IPv4',
    );
  });

  it('gives no hint where the general message says it all', () => {
    for (const input of ['10.1.2.0/16', '2001:db8::/64', 'nope/24', '::ffff:10.1.2.7', '/48']) {
      expect([input, subnetHint(input)]).toEqual([input, undefined]);
    }
    // IPv6 forms that only carry an IPv4 address are IPv6 /48s, as ingest derives them
    expect(canonicalSubnet('::10.1.2.7/48')).toBe('::/48');
    expect(canonicalSubnet('64:ff9b::10.1.2.7/48')).toBe('64:ff9b::/48');
  });
});

describe('canonicalRange (allow-list subnets: a /24 or /48, or a wider block)', () => {
  it.each([
    ['10.1.2.77/24', '10.1.2.0/24'],
    ['10.1.17.5/20', '10.1.16.0/20'],
    ['172.16.0.0/12', '172.16.0.0/12'],
    ['10.255.255.255/8', '10.0.0.0/8'],
    ['2001:db8:1:ffff::1/48', '2001:db8:1::/48'],
    ['2001:DB8:ABCD::/32', '2001:db8::/32'],
    ['2001:db8:ffff::/33', '2001:db8:8000::/33'],
    ['2001:db8::/16', '2001::/16'],
  ])('%s → %s', (input, canonical) => {
    expect(canonicalRange(input)).toBe(canonical);
  });

  it('agrees with canonicalSubnet at /24 and /48', () => {
    for (const cidr of ['10.1.2.77/24', '2001:db8:1:ffff::1/48', '0.0.0.0/24'])
      expect(canonicalRange(cidr)).toBe(canonicalSubnet(cidr));
  });

  it.each([
    '10.1.2.0/25', // narrower than a /24: no linkage value is that
    '10.1.2.0/7', // wider than /8
    '2001:db8::/49',
    '2001:db8::/15',
    '10.1.2.0/024',
    '10.1.2.0/',
    '10.1.2.0',
    '::ffff:10.1.2.0/112',
    '::ffff:10.1.2.0/24',
    'nope/16',
  ])('refuses %s', (input) => {
    expect(canonicalRange(input)).toBeNull();
  });
});
