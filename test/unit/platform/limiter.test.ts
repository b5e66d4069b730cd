import { Limiter } from '../../../src/platform/limiter';

const tick = (): Promise<void> => new Promise((go) => setImmediate(go));

describe('Limiter', () => {
  it('never runs more than max jobs, even for a call arriving as a slot is handed on', async () => {
    // Found by review: a job ending freed its slot before the woken waiter took it, so a
    // call arriving a few microtasks later ran beside the waiter.
    for (let depth = 0; depth < 8; depth++) {
      const limiter = new Limiter(1);
      let active = 0;
      let peak = 0;
      const job = (gate: Promise<void>) =>
        limiter.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await gate;
          active--;
        });
      let finishFirst!: () => void;
      const first = job(new Promise<void>((go) => (finishFirst = go)));
      const second = job(tick());
      await tick();
      finishFirst();
      let later: Promise<void> = Promise.resolve();
      for (let i = 0; i < depth; i++) later = later.then(() => undefined);
      const third = later.then(() => job(tick()));
      await Promise.all([first, second, third]);
      expect({ depth, peak }).toEqual({ depth, peak: 1 });
    }
  });

  it('runs up to max at once, in order of arrival, and frees the slot of a job that throws', async () => {
    const limiter = new Limiter(2);
    const started: number[] = [];
    const gates: (() => void)[] = [];
    const jobs = [0, 1, 2, 3].map((i) =>
      limiter.run(async () => {
        started.push(i);
        await new Promise<void>((go) => gates.push(go));
        if (i === 0) throw new Error('boom');
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    gates[0]!();
    await expect(jobs[0]).rejects.toThrow('boom');
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[1]!();
    gates[2]!();
    await tick();
    gates[3]!();
    await expect(Promise.all(jobs.slice(1))).resolves.toEqual([1, 2, 3]);
    expect(started).toEqual([0, 1, 2, 3]);
  });
});
