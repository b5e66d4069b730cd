/**
 * The run's shared values (identifiers) by index, packed: one kind byte each and every
 * value's UTF-8 bytes in one buffer.
 *
 * Why: as `{ kind, value }` objects the 2.85 M identifiers of a 1M-account run took
 * ~218 MiB of heap, alive through build and score, where the run's memory peaks;
 * packed they take ~50 MiB (a probe on 12-03). `value(i)` decodes a new string on each
 * call (~0.1 µs): read it once per use. A value must be well-formed UTF-16, as every
 * string read over Bolt is: a lone surrogate would come back as U+FFFD.
 */
import { IDENTIFIER_KINDS, kindIndex, type Identifier, type IdentifierKind } from './types';

export class IdentifierTable {
  /** Columns as IdentifierTableBuilder makes them; use `of` or the builder. */
  constructor(
    private readonly kinds: Uint8Array,
    /** value i is bytes[start[i] .. start[i + 1]) */
    private readonly start: Uint32Array,
    private readonly bytes: Buffer,
  ) {}

  /** A table of `list`, in its order (fixtures, benches, tests). */
  static of(list: readonly Identifier[]): IdentifierTable {
    const b = new IdentifierTableBuilder();
    for (const id of list) b.add(id.kind, id.value);
    return b.finish();
  }

  get length(): number {
    return this.kinds.length;
  }

  kind(i: number): IdentifierKind {
    return IDENTIFIER_KINDS[this.kinds[this.checked(i)] as number] as IdentifierKind;
  }

  value(i: number): string {
    this.checked(i);
    return this.bytes.toString('utf8', this.start[i], this.start[i + 1]);
  }

  at(i: number): Identifier {
    return { kind: this.kind(i), value: this.value(i) };
  }

  toArray(): Identifier[] {
    return Array.from({ length: this.length }, (_, i) => this.at(i));
  }

  private checked(i: number): number {
    if (!(i >= 0 && i < this.kinds.length && Number.isInteger(i)))
      throw new RangeError(`identifier ${i} out of range (${this.kinds.length} identifiers)`);
    return i;
  }
}

/** Appends identifiers; `add` returns the new one's index (no de-duplication here). */
export class IdentifierTableBuilder {
  private kinds = new Uint8Array(1024);
  private start = new Uint32Array(1025);
  private bytes = Buffer.allocUnsafe(16 * 1024);
  private count = 0;
  private used = 0;

  get length(): number {
    return this.count;
  }

  add(kind: IdentifierKind, value: string): number {
    const code = kindIndex(kind);
    if (this.count === this.kinds.length) {
      this.kinds = grown(this.kinds, new Uint8Array(this.kinds.length * 2));
      this.start = grown(this.start, new Uint32Array(this.kinds.length + 1));
    }
    // Worst case of UTF-8 is 3 bytes per UTF-16 code unit; near the limit, the exact size.
    let room = this.used + value.length * 3;
    if (room > 0xffffffff) room = this.used + Buffer.byteLength(value, 'utf8');
    if (room > this.bytes.length) {
      if (room > 0xffffffff) throw new RangeError('identifier values exceed 4 GiB');
      const next = Buffer.allocUnsafe(Math.min(0xffffffff, Math.max(room, this.bytes.length * 2)));
      this.bytes.copy(next, 0, 0, this.used);
      this.bytes = next;
    }
    this.used += this.bytes.write(value, this.used, 'utf8');
    this.kinds[this.count] = code;
    this.start[++this.count] = this.used;
    return this.count - 1;
  }

  /** The table, right-sized; the builder lets go of its own arrays and starts empty. */
  finish(): IdentifierTable {
    const bytes = Buffer.alloc(this.used);
    this.bytes.copy(bytes, 0, 0, this.used);
    const table = new IdentifierTable(
      this.kinds.slice(0, this.count),
      this.start.slice(0, this.count + 1),
      bytes,
    );
    this.kinds = new Uint8Array(1024);
    this.start = new Uint32Array(1025);
    this.bytes = Buffer.allocUnsafe(16 * 1024);
    this.count = 0;
    this.used = 0;
    return table;
  }
}

function grown<T extends Uint8Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
