/**
 * Group commit for POST /v1/events: batches that arrive while a write is in flight
 * wait in a queue and are then written together, folded in ONE transaction (up to
 * `maxEvents` events), each request still answered with its own counts.
 *
 * Why: a 1,000-event batch costs a transaction's fixed round trips and commit, and
 * concurrent small transactions on shared nodes (an IP, a popular prompt) deadlock
 * and retry. One writer taking everything queued folds an account's events across
 * requests and never contends with itself. Nothing waits on a timer: a request that
 * finds the writer idle is written at once.
 *
 * Failure stays per request: if a group of several fails for a reason other than the
 * database being unreachable, and its marker shows it never committed, each of its
 * batches is retried alone, so one batch that the database refuses cannot fail its
 * neighbours. Each transaction is still all-or-nothing, so no request is ever
 * half-written.
 */
import { randomUUID } from 'node:crypto';
import { AppError, isAppError } from '../platform/errors';
import type { CleanEvent } from './event-schema';
import type { BatchKey, EventWriter, WriteResult } from './writer';

interface Waiting {
  events: readonly CleanEvent[];
  batchKey?: BatchKey;
  resolve: (r: WriteResult) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  /** most events written in one transaction (a single larger batch still goes alone) */
  maxEvents: number;
  /** groups in flight at once */
  maxInFlight: number;
  /**
   * most events waiting (not yet in flight); a batch past it is refused with 503
   * database_busy, unless nothing waits. Each waiting request holds its body in memory.
   */
  maxQueuedEvents?: number;
  /** told the size in batches of every group committed (a metric), a retried one's alone too */
  onGroup?: (batches: number) => void;
}

export class GroupCommit {
  private readonly queue: Waiting[] = [];
  private queuedEvents = 0;
  private inFlight = 0;

  constructor(
    private readonly writer: EventWriter,
    private readonly opts: GroupCommitOptions,
  ) {}

  /**
   * Throws 503 database_busy when `events` more would not be queued now. While Neo4j is
   * slow the queue would grow with every request, each holding its body, until the
   * process ran out of memory and lost them all. The route asks before it validates and
   * fingerprints a batch, so a refused one costs no fingerprinting (up to ~0.7 s of the
   * event loop for a 10 MiB body).
   */
  refuseIfFull(events: number): void {
    const max = this.opts.maxQueuedEvents ?? Infinity;
    if (this.queue.length > 0 && this.queuedEvents + events > max) {
      throw new AppError('database_busy', 'the write queue is full; retry later', {
        details: { queuedEvents: this.queuedEvents, maxQueuedEvents: max },
      });
    }
  }

  /**
   * A batch written, alone or with others waiting. A batch with a key (Idempotency-Key)
   * goes alone: its transaction's marker is the key's, which answers a resend.
   */
  write(events: readonly CleanEvent[], batchKey?: BatchKey): Promise<WriteResult> {
    // Nothing to write and no key to keep: no transaction (review). A keyed empty batch
    // is written, for its marker: another batch under that key is then refused.
    if (events.length === 0 && !batchKey)
      return Promise.resolve({ received: 0, written: 0, duplicates: 0 });
    try {
      this.refuseIfFull(events.length);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ events, batchKey, resolve, reject });
      this.queuedEvents += events.length;
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const group = this.take();
      this.inFlight++;
      void this.flush(group).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
  }

  /**
   * The oldest waiting batches, as many as fit in maxEvents (always at least one); a keyed
   * batch alone.
   */
  private take(): Waiting[] {
    const group = [this.queue.shift() as Waiting];
    let events = (group[0] as Waiting).events.length;
    while (this.queue.length > 0 && !group[0]?.batchKey) {
      const next = this.queue[0] as Waiting;
      if (next.batchKey || events + next.events.length > this.opts.maxEvents) break;
      group.push(this.queue.shift() as Waiting);
      events += next.events.length;
    }
    this.queuedEvents -= events;
    return group;
  }

  private async flush(group: Waiting[]): Promise<void> {
    const outcome = await this.writeChecked(
      group.map((w) => w.events),
      group[0]?.batchKey,
    );
    if ('results' in outcome) {
      // Told once committed: a group that failed and was retried batch by batch was never
      // one transaction (review, 12-05: it was told before the write).
      this.opts.onGroup?.(group.length);
      group.forEach((w, i) => w.resolve(outcome.results[i] as WriteResult));
      return;
    }
    const { err, retry } = outcome;
    if (group.length === 1 || !retry) {
      for (const w of group) w.reject(err);
      return;
    }
    // It never committed: each batch alone, so one bad batch fails only itself.
    for (const w of group) {
      const alone = await this.writeChecked([w.events]);
      if ('results' in alone) {
        this.opts.onGroup?.(1);
        w.resolve(alone.results[0] as WriteResult);
      } else w.reject(alone.err);
    }
  }

  /**
   * One transaction, and when it fails, its marker read: it may have committed with its
   * answer lost and the driver's re-runs failing (a lock or memory limit they met, say).
   * Then its batches are in, and the answer is what it stored: writing them again, or
   * answering 503, would count events without an id twice. `retry` says the batches are
   * known not to be in. Not asked when Neo4j is unreachable or restarting (503, as any
   * write: README says what a resend after a commit that went through counts), nor
   * known when the marker cannot be read.
   */
  private async writeChecked(
    batches: readonly (readonly CleanEvent[])[],
    batchKey?: BatchKey,
  ): Promise<{ results: WriteResult[] } | { err: unknown; retry: boolean }> {
    const token = randomUUID();
    try {
      return { results: await this.writer.writeMany(batches, undefined, token, batchKey) };
    } catch (err) {
      // Database.write has already mapped driver errors to AppErrors. A key sent with
      // another batch has nothing to read: that batch's marker is what refused it.
      if (isAppError(err) && ['database_unavailable', 'idempotency_key_reused'].includes(err.code))
        return { err, retry: false };
      try {
        const stored = await this.writer.committed(token, batchKey);
        return stored ? { results: stored } : { err, retry: true };
      } catch {
        return { err, retry: false };
      }
    }
  }
}
