import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isWholeZip } from '../../../src/platform/neo4j-local';

/** A zip's end record: signature, 16 bytes of counts and offsets, the comment's length. */
function endRecord(comment = ''): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Buffer.byteLength(comment), 20);
  return Buffer.concat([end, Buffer.from(comment)]);
}

describe('isWholeZip (the launcher build check)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-zip-'));
  const file = (name: string, bytes: Buffer) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, bytes);
    return f;
  };
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('accepts a zip that ends with its end record, with or without a comment', () => {
    const body = Buffer.alloc(5000, 7); // stands in for entries and the central directory
    expect(isWholeZip(file('plain.jar', Buffer.concat([body, endRecord()])))).toBe(true);
    expect(isWholeZip(file('comment.jar', Buffer.concat([body, endRecord('built by x')])))).toBe(
      true,
    );
    expect(isWholeZip(file('empty.zip', endRecord()))).toBe(true);
  });

  it('refuses a jar cut short (review: an interrupted build left one that the next build kept)', () => {
    const whole = Buffer.concat([Buffer.alloc(5000, 7), endRecord()]);
    expect(isWholeZip(file('cut.jar', whole.subarray(0, 5000)))).toBe(false);
    expect(isWholeZip(file('cut-end.jar', whole.subarray(0, whole.length - 3)))).toBe(false);
    // an end signature inside the data, not at the end
    const inside = Buffer.concat([endRecord(), Buffer.alloc(100, 1)]);
    expect(isWholeZip(file('inside.jar', inside))).toBe(false);
    expect(isWholeZip(file('nothing.jar', Buffer.alloc(0)))).toBe(false);
  });
});
