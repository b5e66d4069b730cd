/**
 * Where a worker thread's entry file is: `<name>.js` beside the caller when built;
 * `<name>.ts` in tests and benches, loaded through tsx's CommonJS hook (a worker does
 * not inherit `--import tsx`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export function workerEntry(dir: string, name: string): { file: string; execArgv?: string[] } {
  const js = path.join(dir, `${name}.js`);
  if (existsSync(js)) return { file: js };
  // Only tsx's hook: the parent's own tsx flags (`--import tsx`, tsx's CLI preflight)
  // break a worker's entry resolution, and V8 flags are refused here (they are
  // process-wide and apply to the worker anyway).
  return {
    file: path.join(dir, `${name}.ts`),
    execArgv: ['--require', require.resolve('tsx/cjs')],
  };
}
