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

/**
 * String → number past the 2^24 entries one V8 Map holds: once a map is full, further
 * keys go to a new one. Extract and build intern every distinct value of a kind in one
 * of these (and LSH every fingerprint when it groups exact duplicates only), and prompt
 * fingerprints and IPs only accumulate (about 1 M each at 1 M accounts), so one Map would
 * fail the run at ~16.8 M of them (review, 12-05). Lookups try the maps in order: one
 * map, as ever, until the first is full.
 */
export class StringIndex {
  private readonly maps: Map<string, number>[] = [new Map()];
  constructor(private readonly perMap = 2 ** 24 - 1) {}

  get(key: string): number | undefined {
    for (const map of this.maps) {
      const value = map.get(key);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  set(key: string, value: number): void {
    let last = this.maps[this.maps.length - 1] as Map<string, number>;
    if (last.size >= this.perMap) this.maps.push((last = new Map()));
    last.set(key, value);
  }

  get size(): number {
    return this.maps.reduce((n, m) => n + m.size, 0);
  }

  clear(): void {
    this.maps.length = 1;
    this.maps[0]?.clear();
  }
}
