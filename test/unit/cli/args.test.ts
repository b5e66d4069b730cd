import { InvalidArgumentError } from 'commander';
import { positiveInt, positiveNumber, scaleArg, seedArg } from '../../../src/cli/args';

describe('seedArg (linkage run --seed, simulate --seed)', () => {
  it('takes the 32-bit seeds in plain decimal digits', () => {
    expect(seedArg('0')).toBe(0);
    expect(seedArg('42')).toBe(42);
    expect(seedArg('4294967295')).toBe(2 ** 32 - 1);
  });

  it('refuses what Number() would read as another seed: blank (0), hex, exponents', () => {
    for (const bad of ['', ' ', '0x2A', '1e3', '42.0', '+42', '-0', ' 42']) {
      expect(() => seedArg(bad)).toThrow(InvalidArgumentError);
    }
  });

  it('refuses seeds of 2^32 and more: the simulator folds them onto smaller ones', () => {
    expect(() => seedArg('4294967296')).toThrow('must be an integer in [0, 2^32)');
    expect(() => seedArg('4294967297')).toThrow('must be an integer in [0, 2^32)');
  });
});

describe('positiveInt (import --batch-size)', () => {
  it('takes plain decimal digits from 1', () => {
    expect(positiveInt('1')).toBe(1);
    expect(positiveInt('200000')).toBe(200_000);
  });

  it('refuses 0, blank, hex, exponents and integers past 2^53', () => {
    for (const bad of ['0', '', ' ', '0x10', '1e3', '1.5', '-1', '9007199254740993']) {
      expect(() => positiveInt(bad)).toThrow('must be a positive integer');
    }
  });
});

describe('positiveNumber', () => {
  it('takes decimals > 0 and refuses what config refuses: blank, hex, exponents', () => {
    expect([positiveNumber('0.1'), positiveNumber('.05'), positiveNumber('2')]).toEqual([
      0.1, 0.05, 2,
    ]);
    for (const bad of ['0', '', ' ', '0x1', '1e-3', '-0.1', 'Infinity', '.']) {
      expect(() => positiveNumber(bad)).toThrow('must be a positive number');
    }
  });
});

describe('scaleArg (simulate --scale)', () => {
  it("takes a scale up to the simulator's 5 and refuses more before anything runs", () => {
    expect([scaleArg('0.1'), scaleArg('5')]).toEqual([0.1, 5]);
    expect(() => scaleArg('5.01')).toThrow(new InvalidArgumentError('must be at most 5'));
    expect(() => scaleArg('0')).toThrow('must be a positive number');
  });
});
