// Minimal types for the parts of autocannon the query benchmark uses (it ships none).
declare module 'autocannon' {
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    headers?: Record<string, string>;
    requests?: { setupRequest?: (req: { path: string }) => { path: string } }[];
    skipAggregateResult?: boolean;
  }
  interface Result {
    requests: { average: number };
    latency: { p50: number; p99: number; totalCount: number };
    errors: number;
    non2xx: number;
  }
  /** A run with skipAggregateResult: its histograms still encoded, for aggregateResult. */
  export interface RawResult {
    totalCompletedRequests: number;
    /** per-second samples of the request count */
    samples: number;
    errors: number;
    non2xx: number;
  }
  function autocannon(opts: Options & { skipAggregateResult: true }): Promise<RawResult>;
  function autocannon(opts: Options): Promise<Result>;
  namespace autocannon {
    /**
     * Merges raw runs' latency histograms. Its `requests` figures are empty (they come
     * from a live run's histogram): take the rate from the raw runs.
     */
    function aggregateResult(
      results: RawResult[],
      opts: { url: string; connections?: number },
    ): Result;
  }
  export default autocannon;
}
