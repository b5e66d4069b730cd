/**
 * QUERY_MAX_CONCURRENT slots: taken by reserve, refused with 429 past the limit, freed by
 * release once however often it is called.
 */
import type { Context } from '../../../src/context';
import { AnalystQueries } from '../../../src/cypher-console/run';
import { AppError } from '../../../src/platform/errors';

const queries = (max: number) =>
  new AnalystQueries({ db: {}, config: { QUERY_MAX_CONCURRENT: max } } as unknown as Context);

describe('AnalystQueries.reserve', () => {
  it('hands out QUERY_MAX_CONCURRENT slots, then 429 too_many_queries until one is released', () => {
    const q = queries(2);
    const a = q.reserve();
    q.reserve();
    const refused = (() => {
      try {
        q.reserve();
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'too_many_queries', status: 429 });
    a.release();
    expect(() => q.reserve()).not.toThrow();
  });

  it('a slot released twice frees one slot, not two', () => {
    const q = queries(2);
    const a = q.reserve();
    q.reserve();
    a.release();
    a.release();
    q.reserve();
    expect(() => q.reserve()).toThrow(AppError);
  });
});
