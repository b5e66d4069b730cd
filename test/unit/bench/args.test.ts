// The quality benches' seed options: read as the CLI reads --seed, never '' or 'x' as 0.
import { scaleOption, seedOption, seedsOption } from '../../../bench/quality/args';

describe('seed options', () => {
  it('reads a list of seeds', () => {
    expect(seedsOption('seeds', '42')).toEqual([42]);
    expect(seedsOption('seeds', '0,7,4294967295')).toEqual([0, 7, 4_294_967_295]);
  });

  it('refuses empty, non-numeric and out-of-range entries with the option named', () => {
    for (const text of ['42,', ',42', '', '42,x', '1e3', '0x10', '-1', '4294967296', ' 7'])
      expect(() => seedsOption('seeds', text)).toThrow(/^--seeds: ".*" is not a seed/);
    expect(() => seedOption('seed', '')).toThrow('--seed: "" is not a seed');
    expect(seedOption('seed', '42')).toBe(42);
  });
});

describe('scale option', () => {
  it('reads decimals > 0 and refuses anything else with the option named', () => {
    expect([scaleOption('0.1'), scaleOption('.05'), scaleOption('1'), scaleOption('2.')]).toEqual([
      0.1, 0.05, 1, 2,
    ]);
    for (const text of ['', ' ', '0', '0.0', '1e-3', '0x1', '-0.1', 'NaN', 'Infinity', '.'])
      expect(() => scaleOption(text)).toThrow(/^--scale: ".*" is not a decimal number > 0/);
  });
});
