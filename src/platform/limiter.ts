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
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
