import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BLOCK_BYTES, BlockDigester, BlockVerifier } from '../../../src/ingest/block-digests';

const digestsOf = (bytes: Buffer, chunk: number) => {
  const d = new BlockDigester(bytes.length);
  for (let i = 0; i < bytes.length; i += chunk) d.update(bytes.subarray(i, i + chunk));
  return d.finish();
};

const flip = (b: Buffer, at: number) => b.writeUInt8((b.readUInt8(at) ^ 1) & 0xff, at);

/** Feeds `bytes` to a verifier of `identified` in chunks of `chunk` bytes. */
const verify = (identified: Buffer, bytes: Buffer, chunk: number) => {
  const v = new BlockVerifier(digestsOf(identified, 7777), identified.length);
  for (let i = 0; i < bytes.length; i += chunk) v.update(bytes.subarray(i, i + chunk));
  return v;
};

describe('block digests', () => {
  const size = 3 * BLOCK_BYTES + 1234;
  const file = randomBytes(size);

  it('are the same however the bytes are chunked, one 16-byte digest per block', () => {
    const a = digestsOf(file, BLOCK_BYTES);
    expect(a.length).toBe(4 * 16);
    expect(digestsOf(file, 1000).equals(a)).toBe(true);
    expect(digestsOf(file, size).equals(a)).toBe(true);
    expect(digestsOf(Buffer.alloc(0), 10).length).toBe(0);
  });

  it('keep every digest of 2,500 blocks, in order, in one buffer', () => {
    // 2,500 blocks, each its own bytes: the digests are each block's alone, in order
    const blocks = 2500;
    const d = new BlockDigester(blocks * BLOCK_BYTES);
    const one = Buffer.alloc(BLOCK_BYTES);
    for (let i = 0; i < blocks; i++) d.update(one.fill(i % 251).subarray(0, BLOCK_BYTES));
    const all = d.finish();
    expect(all.length).toBe(blocks * 16);
    for (const i of [0, 1023, 1024, 2047, 2048, 2499])
      expect(
        all.subarray(i * 16, i * 16 + 16).equals(digestsOf(one.fill(i % 251), BLOCK_BYTES)),
      ).toBe(true);
    expect(all.subarray(0, 16).equals(all.subarray(16, 32))).toBe(false);
  });

  it('verify the identified bytes, read in blocks or in odd chunks', () => {
    for (const chunk of [BLOCK_BYTES, 5000, size]) {
      const v = verify(file, file, chunk);
      expect(v.changedAt).toBeNull();
      expect(v.verified).toBe(size);
      expect(v.check(null)).toBe(true);
    }
  });

  it('name the first block whose bytes changed, and stay changed', () => {
    const other = Buffer.from(file);
    flip(other, 2 * BLOCK_BYTES + 10);
    const v = verify(file, other, BLOCK_BYTES);
    expect(v.changedAt).toBe(2 * BLOCK_BYTES);
    expect(v.verified).toBe(2 * BLOCK_BYTES);
    expect(v.check(null)).toBe(false);
  });

  it('see more bytes than were identified', () => {
    const v = verify(file, Buffer.concat([file, Buffer.from('x')]), BLOCK_BYTES);
    expect(v.changedAt).toBe(size);
  });

  describe('a block read only in part', () => {
    let dir: string;
    beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'coterie-blocks-'))));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const withFd = (bytes: Buffer, fn: (fd: number) => void) => {
      const at = path.join(dir, 'f');
      writeFileSync(at, bytes);
      const fd = openSync(at, 'r');
      try {
        fn(fd);
      } finally {
        closeSync(fd);
      }
    };
    const part = BLOCK_BYTES + 100; // one whole block and the start of the next

    it('is finished from the reader’s descriptor: the same bytes pass', () => {
      withFd(file, (fd) => {
        const v = verify(file, file.subarray(0, part), part);
        expect(v.verified).toBe(BLOCK_BYTES);
        expect(v.check(fd)).toBe(true);
        expect(v.changedAt).toBeNull();
        // the rest of the block then comes from the reader, and completes it
        v.update(file.subarray(part, 2 * BLOCK_BYTES));
        expect(v.verified).toBe(2 * BLOCK_BYTES);
      });
    });

    it('fails when the file now holds other bytes there, or ends short of the block', () => {
      const refilled = Buffer.from(file);
      flip(refilled, part + 50); // after the part the reader got: its part alone is not enough
      withFd(refilled, (fd) => {
        const v = verify(file, file.subarray(0, part), part);
        expect(v.check(fd)).toBe(false);
        expect(v.changedAt).toBe(BLOCK_BYTES);
      });
      withFd(file.subarray(0, part), (fd) => {
        expect(verify(file, file.subarray(0, part), part).check(fd)).toBe(false);
      });
      // the descriptor closed: the reader ended there, short of the bytes identified
      expect(verify(file, file.subarray(0, part), part).check(null)).toBe(false);
    });

    it('fails when the reader’s own part differs, whatever the file holds now', () => {
      const got = Buffer.from(file.subarray(0, part));
      flip(got, part - 1);
      withFd(file, (fd) => {
        const v = verify(file, got, part);
        expect(v.check(fd)).toBe(false);
      });
    });
  });
});
