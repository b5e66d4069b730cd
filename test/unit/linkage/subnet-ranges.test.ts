import { SubnetRanges } from '../../../src/linkage/subnet-ranges';

describe('SubnetRanges: what a listed subnet range covers', () => {
  const ranges = new SubnetRanges([
    '10.1.16.0/20',
    '10.9.9.0/24',
    '2001:db8::/32',
    'not a range', // skipped, as is anything canonicalRange refuses
    '10.1.16.0/25',
  ]);

  it('counts the ranges it took', () => {
    expect(ranges.size).toBe(3);
  });

  it.each([
    ['10.1.16.0/24', true],
    ['10.1.31.0/24', true], // the /20's last /24
    ['10.1.32.0/24', false], // the next block
    ['10.1.15.0/24', false],
    ['10.9.9.0/24', true],
    ['10.9.8.0/24', false],
    ['2001:db8:ffff::/48', true],
    ['2001:db9::/48', false],
    ['garbage', false],
    ['10.1.20.0/25', false], // no subnet a run holds
  ])('subnet %s: %s', (subnet, covered) => {
    expect(ranges.coversSubnet(subnet)).toBe(covered);
  });

  it.each([
    ['10.1.20.7', true],
    ['10.1.32.1', false],
    ['10.9.9.200', true],
    ['::ffff:10.1.20.7', true], // an IPv4-mapped address is its IPv4 address
    ['2001:db8:1234:5::1', true],
    ['2001:db9::1', false],
    ['pm_1', false],
    ['10.1.300.1', false], // no address
  ])('address %s: %s', (ip, covered) => {
    expect(ranges.coversIp(ip)).toBe(covered);
  });

  it('covers nothing when empty', () => {
    const none = new SubnetRanges([]);
    expect([none.size, none.coversIp('10.1.20.7'), none.coversSubnet('10.1.16.0/24')]).toEqual([
      0,
      false,
      false,
    ]);
  });
});
