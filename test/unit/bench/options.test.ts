/** The ingest and query benches' numeric options (review, 12-06: 'abc' ran as NaN). */
import { shareOption, wholeOption } from '../../../bench/options';

describe('bench options', () => {
  it('reads plain whole numbers at or above the minimum, and refuses the rest naming the option', () => {
    expect(wholeOption('events', '1000000')).toBe(1_000_000);
    expect(wholeOption('warm-up', '0', 0)).toBe(0);
    for (const text of ['abc', '', ' ', '1e3', '0x10', '-1', '1.5', '0', undefined]) {
      expect(() => wholeOption('rounds', text)).toThrow(
        /^--rounds: ".*" is not a whole number ≥ 1$/,
      );
    }
  });

  it('reads a share in (0, 1]', () => {
    expect(shareOption('cluster-share', '0.3')).toBe(0.3);
    expect(shareOption('cluster-share', '1')).toBe(1);
    for (const text of ['0', '1.5', 'x', '', '.']) {
      expect(() => shareOption('cluster-share', text)).toThrow(/^--cluster-share: /);
    }
  });
});
