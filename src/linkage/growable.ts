/** Appendable typed array (doubling): millions of numbers without a JS array of them. */
export class Growable<T extends Int32Array | Float64Array> {
  length = 0;
  constructor(
    private data: T,
    private readonly make: (n: number) => T,
  ) {}

  static int32(): Growable<Int32Array> {
    return new Growable(new Int32Array(1024), (n) => new Int32Array(n));
  }

  static float64(): Growable<Float64Array> {
    return new Growable(new Float64Array(1024), (n) => new Float64Array(n));
  }

  push(x: number): void {
    if (this.length === this.data.length) {
      const next = this.make(Math.max(1024, this.data.length * 2));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }

  /** A right-sized copy. */
  done(): T {
    return this.data.slice(0, this.length) as T;
  }
}
