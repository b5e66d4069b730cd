/**
 * Whether a file is gzip, by its first two bytes (1f 8b) rather than its name: a gzip
 * named EVENTS.JSONL.GZ or reached through a link named `latest` read as text would
 * reject every "line" of its compressed bytes, and a text file named .gz fail to inflate.
 * No JSON-lines file begins with them (0x1f is a control character, 0x8b no UTF-8 lead).
 */
import { closeSync, openSync, readSync } from 'node:fs';

export function isGzipFile(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false; // a missing or unreadable file fails where it is read, naming why
  }
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}
