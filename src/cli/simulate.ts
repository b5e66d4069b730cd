/**
 * `coterie simulate`: writes a synthetic population (three distillation
 * campaigns among a ten-times-larger benign population) as events in the public
 * contract plus a separate ground-truth file. No database involved.
 */
import { simulate } from '../simulate';
import { progressBar } from './terminal';

export async function simulateCommand(opts: {
  scale: number;
  seed: number;
  out: string;
  gzip?: boolean;
}): Promise<void> {
  const bar = progressBar(
    'simulating [{bar}] day {value}/{total} | {events} events | ETA {eta_formatted}',
  );
  bar.start(1, 0, { events: 0 });
  // Stopped on failure too (a full disk), before the error is printed, not over it.
  const result = await simulate({
    scale: opts.scale,
    seed: opts.seed,
    outDir: opts.out,
    gzip: opts.gzip,
    onProgress: (p) => {
      bar.setTotal(p.days);
      bar.update(p.day, { events: p.events });
    },
  }).finally(() => bar.stop());
  console.log(JSON.stringify(result));
}
