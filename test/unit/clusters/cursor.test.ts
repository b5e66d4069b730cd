import { decodeCursor, encodeCursor } from '../../../src/clusters/cursor';
import { z } from 'zod';

const KEY = z.tuple([z.number().int(), z.string()]);

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('page cursors', () => {
  it('decode under the scope they were issued in', () => {
    const cursor = encodeCursor(['verdicts', 0, null, 'c-1'], [1700, 'v-1']);
    expect(decodeCursor(cursor, ['verdicts', 0, null, 'c-1'], KEY)).toEqual([1700, 'v-1']);
  });

  it.each([
    ['another endpoint with the same key shape', ['audit', null]],
    ['other filters', ['verdicts', 0, 'benign', 'c-1']],
    ['a filter dropped', ['verdicts', 0, null, null]],
  ] as const)('are 400 under %s', (_, scope) => {
    const cursor = encodeCursor(['verdicts', 0, null, 'c-1'], [1700, 'v-1']);
    expect(refusal(() => decodeCursor(cursor, [...scope], KEY, 'after'))).toMatchObject({
      code: 'validation_failed',
      details: [{ path: 'after', message: expect.stringContaining('not a cursor') }],
    });
  });

  it('are 400 untagged (the format before tags), forged or not JSON', () => {
    const untagged = Buffer.from(JSON.stringify([1700, 'v-1'])).toString('base64url');
    const forged = Buffer.from(JSON.stringify(['x', 1700, 'v-1'])).toString('base64url');
    for (const cursor of [untagged, forged, 'abc', '']) {
      expect(refusal(() => decodeCursor(cursor, ['audit', null], KEY))).toMatchObject({
        code: 'validation_failed',
      });
    }
  });

  it('are 400 with the right tag but a key of another shape', () => {
    const cursor = encodeCursor(['audit', null], ['1700', 'v-1']);
    expect(refusal(() => decodeCursor(cursor, ['audit', null], KEY))).toMatchObject({
      code: 'validation_failed',
    });
  });
});
