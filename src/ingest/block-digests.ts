/**
 * Digests of a file's bytes in fixed blocks, so that an import can check every block it
 * reads against the bytes it identified before it writes any line from them. The whole
 * file's sha256 can be compared only at the end; a log cut short and refilled in place
 * (logrotate's `copytruncate`) keeps its inode, and without these the windows read
 * after the cut were written (counted again when the rotated copy was imported).
 */
import { createHash, type Hash } from 'node:crypto';
import { readSync } from 'node:fs';

/** The import's read chunk: each chunk the reader gets then completes one block. */
export const BLOCK_BYTES = 64 * 1024;
/** sha256 cut to 16 bytes: a check against accidental change, 1.5 MiB per 6 GiB read. */
const DIGEST_BYTES = 16;

const digestOf = (hash: Hash) => hash.digest().subarray(0, DIGEST_BYTES);

/** Digests of the blocks of the `size` bytes fed to it in order; the last block may be short. */
export class BlockDigester {
  private readonly digests: Buffer;
  private count = 0;
  private hash = createHash('sha256');
  private filled = 0;

  constructor(size: number) {
    // One buffer for them all: a Buffer per block costs ~10× its 16 bytes.
    this.digests = Buffer.alloc(Math.ceil(size / BLOCK_BYTES) * DIGEST_BYTES);
  }

  update(chunk: Buffer): void {
    for (let from = 0; from < chunk.length;) {
      const to = Math.min(chunk.length, from + BLOCK_BYTES - this.filled);
      this.hash.update(chunk.subarray(from, to));
      this.filled += to - from;
      from = to;
      if (this.filled === BLOCK_BYTES) this.push();
    }
  }

  /** One buffer of every block's digest, in order. */
  finish(): Buffer {
    if (this.filled > 0) this.push();
    return this.digests.subarray(0, this.count * DIGEST_BYTES);
  }

  private push(): void {
    if (this.count * DIGEST_BYTES >= this.digests.length) {
      throw new RangeError('more bytes than the size given to BlockDigester');
    }
    digestOf(this.hash).copy(this.digests, this.count * DIGEST_BYTES);
    this.count++;
    this.hash = createHash('sha256');
    this.filled = 0;
  }
}

/**
 * Checks the bytes a reader gets (from offset 0, in order) against the digests of the
 * `size` bytes identified. `verified` is how far every byte was shown to be identified;
 * `changedAt` the first block that was not.
 */
export class BlockVerifier {
  verified = 0;
  changedAt: number | null = null;
  private hash = createHash('sha256');
  private filled = 0;

  constructor(
    private readonly digests: Buffer,
    private readonly size: number,
  ) {}

  update(chunk: Buffer): void {
    for (let from = 0; from < chunk.length && this.changedAt === null;) {
      const start = this.verified;
      const to = Math.min(chunk.length, from + this.blockEnd(start) - start - this.filled);
      if (to <= from) {
        this.changedAt = this.size; // more bytes than were identified
        return;
      }
      this.hash.update(chunk.subarray(from, to));
      this.filled += to - from;
      from = to;
      if (start + this.filled === this.blockEnd(start)) this.settle();
    }
  }

  /**
   * Whether every byte the reader got so far is identified. A block the reader got only
   * part of (a short read: the file cut short, or a filesystem that reads in pieces) is
   * finished from `fd`, the reader's own descriptor, at its offset; pass null once it is
   * closed (then the reader has ended short of the block, and the file is cut short).
   */
  check(fd: number | null): boolean {
    if (this.changedAt !== null) return false;
    if (this.filled === 0) return true;
    const start = this.verified;
    const rest = Buffer.alloc(this.blockEnd(start) - start - this.filled);
    const got = fd === null ? 0 : readSync(fd, rest, 0, rest.length, start + this.filled);
    if (got < rest.length) {
      this.changedAt = start;
      return false;
    }
    // The reader's part stays in `hash` for the rest of the block, which it reads later.
    const whole = this.hash.copy().update(rest);
    const ok = digestOf(whole).equals(this.expected(start));
    if (!ok) this.changedAt = start;
    return ok;
  }

  private blockEnd(start: number): number {
    return Math.min(start + BLOCK_BYTES, this.size);
  }

  private expected(start: number): Buffer {
    const at = (start / BLOCK_BYTES) * DIGEST_BYTES;
    return this.digests.subarray(at, at + DIGEST_BYTES);
  }

  private settle(): void {
    const start = this.verified;
    if (digestOf(this.hash).equals(this.expected(start))) {
      this.verified = this.blockEnd(start);
      this.hash = createHash('sha256');
      this.filled = 0;
    } else {
      this.changedAt = start;
    }
  }
}
