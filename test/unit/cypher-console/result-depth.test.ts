/** A result nested past VALUE_MAX_DEPTH is 422 result_too_deep, not a stack overflow (a 500). */
import { recordToPlain, VALUE_MAX_DEPTH } from '../../../src/platform/neo4j';

const nested = (n: number): unknown => {
  let v: unknown = [];
  for (let i = 0; i < n; i++) v = [v];
  return v;
};
const record = (x: unknown) => ({ keys: ['x'], get: () => x });

describe('recordToPlain depth', () => {
  it('converts values up to VALUE_MAX_DEPTH and refuses deeper ones with result_too_deep', () => {
    expect(() => recordToPlain(record(nested(VALUE_MAX_DEPTH)))).not.toThrow();
    expect(() => recordToPlain(record(nested(VALUE_MAX_DEPTH + 1)))).toThrow(
      expect.objectContaining({ code: 'result_too_deep', status: 422 }),
    );
    // deep enough to overflow the stack without the limit (found by review: 500)
    expect(() => recordToPlain(record(nested(200_000)))).toThrow(
      expect.objectContaining({ code: 'result_too_deep' }),
    );
  });
});
