import { canonicalIp, canonicalSubnet, subnetOf } from '../../../src/ingest/subnet';

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
});
