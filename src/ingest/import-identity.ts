/**
 * What identifies a bulk import: the file's bytes, not its path. A file is known by the
 * sha256 of its whole content (the compressed bytes of a .gz), so the same bytes at
 * another path are the same import. A file that is an earlier import's bytes plus
 * appended lines continues that import. Earlier imports it may extend or replace are
 * found by the hash of their first line or by their path, then checked against real
 * bytes: the sha256 of this file's first `size` bytes must be the earlier file's. One
 * read pass computes the whole file's hash and every such prefix hash.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BlockDigester } from './block-digests';
import { isGzipFile } from './gzip-file';

export interface FileIdentity {
  /** `sha256:` + the sha256 of the whole file */
  key: string;
  file: string;
  size: number;
  /** sha256 of the first line: an earlier file this one extends has the same, wherever it was */
  head: string;
  gz: boolean;
}

/** An earlier import's checkpoint, as far as matching needs it. */
export interface EarlierImport {
  key: string;
  file: string | null;
  /** null on checkpoints written before content keys */
  size: number | null;
  /** every window of its file is in */
  complete: boolean;
  /** whether its (decoded) file ended with a line break; known once complete */
  endsWithNewline: boolean | null;
  /** the key of a longer file that continued this import */
  continuedBy: string | null;
  /** the last committed line */
  line: number;
  /** sha256 of its first line (null on checkpoints written before content keys) */
  head: string | null;
  /** whether the import that continued this one (`continuedBy`) is complete; null if none or gone */
  continuedByComplete: boolean | null;
}

/** This file's first `size` bytes, for a size some earlier import had. */
export interface Prefix {
  sha256: string;
  /** the prefix ends a line: its last byte or the byte after it is a line break (or it is empty) */
  endsLine: boolean;
}

export type MatchKind =
  /** nothing earlier: a new import */
  | 'new'
  /** these bytes were imported before (at any path): resume or finish that import */
  | 'same'
  /** an earlier import's bytes plus appended lines: continue that import */
  | 'appended'
  /** a checkpoint from before content keys, for this path, size and first MiB: take it over */
  | 'legacy'
  /** these bytes' unfinished import was continued by a longer file, which finishes it */
  | 'continued';

export interface Match<E extends EarlierImport> {
  kind: MatchKind;
  /** the import it is or continues; for a new import, the earlier one it overlaps (if any) */
  earlier?: E;
  /**
   * A new import whose content overlaps an earlier import's (it begins with that import's
   * bytes, or with the same first line): events without an id that both hold would be
   * counted again. The importer refuses it unless told to recount.
   */
  overlap?: { file: string; reason: string };
  /**
   * A recount of these very bytes (their unfinished import a longer file took over): the
   * import's own checkpoint, under this key, starts again from line 1.
   */
  restart?: boolean;
  /** for stderr: events counted again, a path reused for other content, or why nothing was imported */
  warnings: string[];
}

const HEAD_MAX = 64 * 1024;
const CHUNK = 1 << 20;
const LF = 10;
const CR = 13;

/**
 * This file's identity (its first line's hash read before, to find the earlier imports
 * whose sizes are `sizes`), and the hashes of its first n bytes for each of those sizes.
 */
export async function identify(
  file: string,
  size: number,
  head: string,
  sizes: readonly number[],
  opts: HashOptions = {},
): Promise<{ identity: FileIdentity; prefixes: Map<number, Prefix>; blocks: Buffer }> {
  const { sha256, prefixes, blocks } = await hashFile(file, size, sizes, opts);
  return {
    identity: { key: `sha256:${sha256}`, file, size, head, gz: isGzipFile(file) },
    prefixes,
    blocks,
  };
}

export interface HashOptions {
  /** bytes hashed, chunk by chunk */
  onBytes?: (n: number) => void;
  /** stops (throws its reason) at the next chunk */
  signal?: AbortSignal;
  chunkBytes?: number;
}

/**
 * sha256 of the file's first `size` bytes, and of its first n bytes for each n in
 * `sizes` (a hash copied at each offset: one pass, memory bounded by the chunk), and the
 * digests of its blocks (block-digests.ts) that the import checks what it reads against.
 */
export async function hashFile(
  file: string,
  size: number,
  sizes: readonly number[],
  opts: HashOptions = {},
): Promise<{ sha256: string; prefixes: Map<number, Prefix>; blocks: Buffer }> {
  const wanted = [...new Set(sizes)].filter((n) => n <= size).sort((a, b) => a - b);
  const hash = createHash('sha256');
  const blocks = new BlockDigester(size);
  const prefixes = new Map<number, Prefix>();
  // Prefixes whose next byte is still to come (it tells whether they end a line).
  let open: { n: number; sha256: string; last: number | undefined }[] = [];
  let pos = 0;
  let last: number | undefined;
  const snapshot = () => {
    for (; wanted[0] === pos; wanted.shift()) {
      open.push({ n: pos, sha256: hash.copy().digest('hex'), last });
    }
  };
  const settle = (next: number | undefined) => {
    for (const p of open) {
      const endsLine = p.n === 0 || p.last === LF || next === LF;
      prefixes.set(p.n, { sha256: p.sha256, endsLine });
    }
    open = [];
  };
  if (size > 0) {
    const stream = createReadStream(file, {
      start: 0,
      end: size - 1,
      highWaterMark: opts.chunkBytes ?? CHUNK,
    });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      opts.signal?.throwIfAborted();
      for (let from = 0; from < chunk.length;) {
        snapshot();
        if (open.length > 0) settle(chunk[from]);
        const to =
          wanted.length > 0
            ? Math.min(chunk.length, from + (wanted[0] as number) - pos)
            : chunk.length;
        hash.update(chunk.subarray(from, to));
        blocks.update(chunk.subarray(from, to));
        last = chunk[to - 1];
        pos += to - from;
        from = to;
      }
      opts.onBytes?.(chunk.length);
    }
  }
  // Cut short after its size was read: the hash would be of other bytes than `size`.
  if (pos !== size) {
    throw new Error(
      `${file} changed while it was identified (${pos} of ${size} bytes read: cut short); ` +
        'nothing was read or written: import it again once it is whole',
    );
  }
  snapshot();
  settle(undefined);
  return { sha256: hash.digest('hex'), prefixes, blocks: blocks.finish() };
}

/**
 * Where a plain file's text ends a line: the offset after its last line break in its
 * first `size` bytes (0 if none). Read backwards, a chunk at a time.
 */
export async function lastLineEnd(file: string, size: number, chunkBytes = 64 * 1024) {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(chunkBytes, Math.max(size, 1)));
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - buf.length);
      const { bytesRead } = await handle.read(buf, 0, end - start, start);
      const lf = buf.subarray(0, bytesRead).lastIndexOf(LF);
      if (lf >= 0) return start + lf + 1;
      end = start;
    }
    return 0;
  } finally {
    await handle.close();
  }
}

/**
 * Whether bytes [start, end) of a plain file (its tail past the last LF, left unread)
 * hold a line ended by a CR alone (a CR with a byte after it that is not LF; the first
 * 64 KiB looked at): a file with CR-only line ends, not one whose last line is unfinished.
 */
export async function endsLinesWithCR(file: string, start: number, end: number) {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(Math.max(0, Math.min(end - start, 64 * 1024)));
    const { bytesRead } = await handle.read(buf, 0, buf.length, start);
    for (let cr = buf.indexOf(CR); cr >= 0 && cr + 1 < bytesRead; cr = buf.indexOf(CR, cr + 1)) {
      if (buf[cr + 1] !== LF) return true;
    }
    return false;
  } finally {
    await handle.close();
  }
}

/** sha256 of the first line (decoded; the bytes before its first line break, at most 64 KiB). */
export async function readHead(file: string): Promise<string> {
  const raw = createReadStream(file, { highWaterMark: HEAD_MAX });
  const gz = isGzipFile(file);
  // pipeline, not pipe: the file's own errors reach the stream read here (with pipe they
  // were an 'error' event nobody listened to: the process crashed).
  const input: Readable = gz ? pipeline(raw, createGunzip(), () => undefined) : raw;
  const parts: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const lf = chunk.indexOf(LF);
      parts.push(lf >= 0 ? chunk.subarray(0, lf) : chunk);
      length += lf >= 0 ? lf : chunk.length;
      if (lf >= 0 || length >= HEAD_MAX) break;
    }
  } catch (err) {
    // Not instanceof Error: an error from another realm (a test's VM) is not one.
    const why = (err as Error | undefined)?.message ?? String(err);
    throw new Error(`reading the first line of ${file}${gz ? ' (gzip)' : ''}: ${why}`, {
      cause: err,
    });
  } finally {
    raw.destroy();
    input.destroy();
  }
  return createHash('sha256').update(Buffer.concat(parts).subarray(0, HEAD_MAX)).digest('hex');
}

/** The key imports had before content keys: path, size and a hash of the first MiB. */
export async function legacyFileKey(file: string, size: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, 1 << 20));
    await handle.read(head, 0, head.length, 0);
    return createHash('sha256').update(`${file}\u0000${size}\u0000`).update(head).digest('hex');
  } finally {
    await handle.close();
  }
}

/**
 * Which earlier import this file is, continues or replaces. Continues only the longest
 * earlier file it verifiably begins with, and only when that file's last line is whole
 * in this one; when in doubt it is a new import, and says what may be counted again.
 */
export function matchEarlier<E extends EarlierImport>(
  id: FileIdentity,
  legacyKey: string,
  earlier: readonly E[],
  prefixes: ReadonlyMap<number, Prefix>,
  opts: { recount?: boolean } = {},
): Match<E> {
  const isPrefix = (e: E) => e.size !== null && `sha256:${prefixes.get(e.size)?.sha256}` === e.key;
  const within = earlier.filter(isPrefix).sort((a, b) => (b.size as number) - (a.size as number));
  const fileOf = (key: string | null) => earlier.find((e) => e.key === key)?.file ?? 'another file';
  const same = within.find((e) => e.key === id.key);
  if (same) {
    if (!stale(same)) return { kind: 'same', earlier: same, warnings: [] };
    // Recounted only while the longer file's import is unfinished (or its checkpoint is
    // gone): once it is complete every line of this file is in, and nothing is left to do.
    if (opts.recount && same.continuedByComplete !== true) {
      return {
        ...overlapping(
          same,
          `${id.file} holds the bytes of an import that stopped at line ${same.line} and was ` +
            `then continued by a longer file, ${fileOf(same.continuedBy)}, whose import is not ` +
            'finished',
        ),
        // This import's own checkpoint starts again from line 1 (importer.ts).
        restart: true,
      };
    }
    return {
      kind: 'continued',
      earlier: same,
      warnings: [continuedNote(id, same, fileOf, opts.recount === true)],
    };
  }
  const legacy = earlier.find((e) => e.key === legacyKey && e.continuedBy === null);
  if (legacy) return { kind: 'legacy', earlier: legacy, warnings: [] };
  const longest = within[0];
  if (longest && stale(longest)) {
    return overlapping(
      longest,
      `${id.file} begins with the bytes of ${longest.file}, whose import stopped at line ` +
        `${longest.line} and was continued by a longer file (${fileOf(longest.continuedBy)}) ` +
        'that this one does not extend',
    );
  }
  if (longest && !endsLine(id, longest, prefixes)) {
    return overlapping(
      longest,
      `${id.file} begins with the bytes of ${longest.file} (imported before, ${longest.line} ` +
        "lines), but that file's last line had no line break (of a .gz not read to its end, " +
        'none is known), so the appended bytes may continue it',
    );
  }
  if (longest) return { kind: 'appended', earlier: longest, warnings: [] };
  return replaced(id, earlier, legacyKey);
}

/** What importing the bytes of an import a longer file continued does: nothing, and why. */
function continuedNote(
  id: FileIdentity,
  same: EarlierImport,
  fileOf: (key: string | null) => string,
  recount: boolean,
): string {
  const longer = fileOf(same.continuedBy);
  const about =
    `${id.file} holds the bytes of an import that stopped at line ${same.line} and was then ` +
    `continued by a longer file, ${longer}`;
  if (same.continuedByComplete === true) {
    return (
      `${about}, whose import is complete: every line of this file is in; nothing was ` +
      `imported${recount ? ' (--recount changes nothing here)' : ''}`
    );
  }
  return (
    `${about}, whose import is not finished: nothing was imported; import that file to ` +
    'finish (if it is gone or changed, --recount imports this file again whole as a new ' +
    'import, counting again the events without an id imported from it before)'
  );
}

const countedAgain = 'events without an id imported from that file before are counted again';

/** A new import overlapping `earlier`'s content: refused unless recounting, then warned of. */
const overlapping = <E extends EarlierImport>(earlier: E, reason: string): Match<E> => ({
  kind: 'new',
  earlier,
  overlap: { file: earlier.file ?? 'another file', reason },
  warnings: [`${reason}: this is a new import, and ${countedAgain}`],
});

/** Its unfinished state is out of date: a longer file took over and wrote its lines. */
const stale = (e: EarlierImport) => e.continuedBy !== null && !e.complete;

/** Whether the earlier file's last line is whole in this one (so it reads the same). */
function endsLine(id: FileIdentity, e: EarlierImport, prefixes: ReadonlyMap<number, Prefix>) {
  // A .gz file's bytes say nothing of its lines: the earlier run's own reading does.
  if (id.gz) return e.endsWithNewline === true;
  return prefixes.get(e.size as number)?.endsLine === true;
}

/**
 * A new import, and what to say of it: a path that held other content is a note (a
 * rotated log) unless that content began with the same first line (rewritten or
 * truncated: they overlap); a file that begins like a longer one imported before
 * overlaps it too.
 */
function replaced<E extends EarlierImport>(
  id: FileIdentity,
  earlier: readonly E[],
  legacyKey: string,
): Match<E> {
  const here = earlier.find((e) => e.file === id.file);
  if (here && here.size === null && here.key !== legacyKey) {
    return {
      kind: 'new',
      warnings: [
        `${id.file} was imported before by an earlier version of coterie, whose checkpoint ` +
          'does not record the content: this is a new import; if the file is that one with ' +
          `lines appended, ${countedAgain}`,
      ],
    };
  }
  if (here && here.head === id.head) {
    return overlapping(
      here,
      `${id.file} was imported before (${here.line} lines) with other content that began with ` +
        'the same line, and is not that content with lines appended (rewritten or truncated)',
    );
  }
  const longer = earlier.find((e) => e.size !== null && e.size > id.size && e.head === id.head);
  if (longer) {
    return overlapping(
      longer,
      `${id.file} begins like ${longer.file}, imported before and longer (perhaps an earlier ` +
        'copy of that file, which cannot be checked byte for byte)',
    );
  }
  if (here) {
    return {
      kind: 'new',
      warnings: [
        `${id.file} is a different file than the one imported at this path before ` +
          `(${here.line} lines; a rotated log, say): a new import`,
      ],
    };
  }
  return { kind: 'new', warnings: [] };
}
