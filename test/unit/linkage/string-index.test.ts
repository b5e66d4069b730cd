// Extract interns each kind's distinct values; one V8 Map holds at most 2^24 entries,
// and past that the run failed (review, 12-05). A StringIndex goes on in a new map.
import { StringIndex } from '../../../src/linkage/growable';

describe('StringIndex', () => {
  it('keeps every key past one map being full, each found with its value', () => {
    const index = new StringIndex(3); // three keys a map, so the test needs no 2^24
    const keys = Array.from({ length: 10 }, (_, i) => `value-${i}`);
    keys.forEach((k, i) => index.set(k, i * 7));
    expect(index.size).toBe(10);
    expect(keys.map((k) => index.get(k))).toEqual(keys.map((_, i) => i * 7));
    expect(index.get('value-10')).toBeUndefined();
    index.clear();
    expect([index.size, index.get('value-0')]).toEqual([0, undefined]);
    index.set('again', 1);
    expect(index.get('again')).toBe(1);
  });
});
