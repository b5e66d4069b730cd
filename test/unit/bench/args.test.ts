// The quality benches' options: seeds read as the CLI reads --seed, never '' or 'x' as 0;
// run.ts's batch size and JVM memory sizes refused unless they are what they claim.
import { runOptions, scaleOption, seedOption, seedsOption } from '../../../bench/quality/args';

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

describe('run options (bench/quality/run.ts)', () => {
  const defaults = { 'first-load': false, heap: '4g', pagecache: '2g' };

  it('reads --batch-size, --heap and --pagecache', () => {
    expect(runOptions(defaults)).toEqual({ firstLoad: false, heap: '4g', pagecache: '2g' });
    expect(
      runOptions({ ...defaults, 'batch-size': '50000', heap: '512m', pagecache: '1G' }),
    ).toEqual({ firstLoad: false, batchSize: 50_000, heap: '512m', pagecache: '1G' });
    expect(runOptions({ ...defaults, 'first-load': true })).toEqual({
      firstLoad: true,
      heap: '4g',
      pagecache: '2g',
    });
  });

  it("defaults the heap and page cache to the service's shipped sizes, not larger ones (review, 12-05)", () => {
    expect(runOptions({ 'first-load': false })).toEqual({
      firstLoad: false,
      heap: '2g',
      pagecache: '1g',
    });
  });

  it('refuses a batch size that is not a positive integer (NaN was one window of the whole file)', () => {
    for (const text of ['', 'x', '0', '-5', '1.5', '1e3', ' 7', '0x10'])
      expect(() => runOptions({ ...defaults, 'batch-size': text })).toThrow(
        /^--batch-size: ".*" is not a positive integer/,
      );
  });

  it('refuses --batch-size with --first-load, which has no batches', () => {
    expect(() => runOptions({ ...defaults, 'first-load': true, 'batch-size': '1000' })).toThrow(
      '--batch-size does nothing with --first-load',
    );
  });

  it('refuses a heap or page cache the JVM would not read as NEO4J_LOCAL_HEAP is read', () => {
    for (const text of ['', '4', '4gb', '0g', '-1g', '1.5g', '4t', 'g', ' 4g'])
      for (const name of ['heap', 'pagecache'] as const)
        expect(() => runOptions({ ...defaults, [name]: text })).toThrow(
          new RegExp(`^--${name}: ".*" is not a size with a unit k, m or g`),
        );
  });
});
