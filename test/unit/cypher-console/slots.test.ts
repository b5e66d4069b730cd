/**
 * QUERY_MAX_CONCURRENT slots, QUERY_MAX_CONCURRENT_PER_KEY of them per key: taken by
 * reserve, refused with 429 past either limit, freed by release once however often it is
 * called.
 */
import type { Context } from '../../../src/context';
import { AnalystQueries } from '../../../src/cypher-console/run';
import { AppError } from '../../../src/platform/errors';

const queries = (max: number, perKey = max) =>
  new AnalystQueries({
    db: {},
    config: { QUERY_MAX_CONCURRENT: max, QUERY_MAX_CONCURRENT_PER_KEY: perKey },
  } as unknown as Context);

function refusal(take: () => unknown): unknown {
  try {
    take();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('AnalystQueries.reserve', () => {
  it('hands out QUERY_MAX_CONCURRENT slots, then 429 too_many_queries until one is released', () => {
    const q = queries(2);
    const a = q.reserve('a');
    q.reserve('a');
    const refused = (() => {
      try {
        q.reserve('a');
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'too_many_queries', status: 429 });
    a.release();
    expect(() => q.reserve('a')).not.toThrow();
  });

  it('a slot released twice frees one slot, not two', () => {
    const q = queries(2);
    const a = q.reserve('a');
    q.reserve('a');
    a.release();
    a.release();
    q.reserve('a');
    expect(() => q.reserve('a')).toThrow(AppError);
  });

  it('one key holds at most QUERY_MAX_CONCURRENT_PER_KEY slots; other keys still get the rest', () => {
    const q = queries(4, 2);
    const first = q.reserve('greedy');
    q.reserve('greedy');
    expect(refusal(() => q.reserve('greedy'))).toMatchObject({
      code: 'too_many_queries',
      details: { scope: 'key', limit: 2 },
    });
    q.reserve('other');
    q.reserve('third');
    // every slot taken now: the process limit answers for a key below its share
    expect(refusal(() => q.reserve('other'))).toMatchObject({
      code: 'too_many_queries',
      details: { scope: 'process', limit: 4 },
    });
    first.release();
    expect(() => q.reserve('greedy')).not.toThrow();
    expect(refusal(() => q.reserve('greedy'))).toMatchObject({ details: { scope: 'key' } });
  });
});
