/**
 * Bounds how many database writes one process runs at once. Beyond two or three
 * concurrent write transactions on shared nodes, Neo4j spends its time on lock
 * waits and deadlock retries rather than on writing; queuing here is cheaper.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    // A finished job hands its slot straight to the first waiter (active stays
    // counted): freeing it first let a call arriving before the waiter woke take it too.
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
