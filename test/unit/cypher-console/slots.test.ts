/**
 * QUERY_MAX_CONCURRENT slots, QUERY_MAX_CONCURRENT_PER_KEY of them per key: taken by
 * reserve, refused with 429 past either limit, freed by release once however often it is
 * called.
 */
import type { Context } from '../../../src/context';
import { AnalystQueries } from '../../../src/cypher-console/run';
import { AppError } from '../../../src/platform/errors';

const queries = (max: number, perKey = max, db: object = {}) =>
  new AnalystQueries({
    db,
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
    q.reserve('b');
    const refused = refusal(() => q.reserve('c'));
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({
      code: 'too_many_queries',
      status: 429,
      details: { scope: 'process', limit: 2 },
    });
    a.release();
    expect(() => q.reserve('c')).not.toThrow();
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

  it("a query given up on at its deadline keeps its key's slot until Neo4j has ended it", async () => {
    let ended: () => void = () => undefined;
    const gone = new Promise<void>((resolve) => (ended = resolve));
    // A database whose read is given up on: the deadline hands over what ends with Neo4j.
    const db = {
      readOnce: (_work: unknown, opts: { onGivenUp: (p: Promise<void>) => void }) => {
        opts.onGivenUp(gone);
        return Promise.reject(new AppError('query_timeout', 'past the deadline'));
      },
    };
    const q = queries(4, 1, db);
    const slot = q.reserve('k');
    await expect(
      slot.run({ text: 'RETURN 1', params: {}, checkPlan: false }),
    ).rejects.toMatchObject({
      code: 'query_timeout',
    });
    slot.release();
    expect(refusal(() => q.reserve('k'))).toMatchObject({ details: { scope: 'key' } });
    expect(() => q.reserve('other')).not.toThrow();
    ended();
    await gone;
    await Promise.resolve();
    expect(() => q.reserve('k')).not.toThrow();
  });
});
