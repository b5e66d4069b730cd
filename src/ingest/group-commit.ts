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
import type { EventWriter, WriteResult } from './writer';

interface Waiting {
  events: readonly CleanEvent[];
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
  /** told the size in batches of every group written (a metric) */
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

  write(events: readonly CleanEvent[]): Promise<WriteResult> {
    const max = this.opts.maxQueuedEvents ?? Infinity;
    if (this.queue.length > 0 && this.queuedEvents + events.length > max) {
      // While Neo4j is slow the queue would grow with every request, each holding its
      // body, until the process ran out of memory and lost them all.
      return Promise.reject(
        new AppError('database_busy', 'the write queue is full; retry later', {
          details: { queuedEvents: this.queuedEvents, maxQueuedEvents: max },
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
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

  /** The oldest waiting batches, as many as fit in maxEvents (always at least one). */
  private take(): Waiting[] {
    const group = [this.queue.shift() as Waiting];
    let events = (group[0] as Waiting).events.length;
    while (this.queue.length > 0) {
      const next = this.queue[0] as Waiting;
      if (events + next.events.length > this.opts.maxEvents) break;
      group.push(this.queue.shift() as Waiting);
      events += next.events.length;
    }
    this.queuedEvents -= events;
    return group;
  }

  private async flush(group: Waiting[]): Promise<void> {
    this.opts.onGroup?.(group.length);
    const token = randomUUID();
    try {
      const results = await this.writer.writeMany(
        group.map((w) => w.events),
        undefined,
        token,
      );
      group.forEach((w, i) => w.resolve(results[i] as WriteResult));
    } catch (err) {
      // Database.write has already mapped driver errors to AppErrors.
      if (group.length === 1 || (isAppError(err) && err.code === 'database_unavailable')) {
        for (const w of group) w.reject(err);
        return;
      }
      // The group may have committed with its answer lost and the driver's re-runs failing
      // (a lock or memory limit they met, say): then each batch is in already, and writing
      // it again alone would count its events without an id twice. (Neo4j unreachable or
      // restarting, above, is answered 503 as any write is: README says what a resend
      // after a commit that went through counts.)
      let stored: WriteResult[] | undefined;
      try {
        stored = await this.writer.committed(token);
      } catch {
        for (const w of group) w.reject(err); // not known: as a failed write, resent or not
        return;
      }
      if (stored) {
        group.forEach((w, i) => w.resolve(stored[i] as WriteResult));
        return;
      }
      for (const w of group) await this.writer.write(w.events).then(w.resolve, w.reject);
    }
  }
}
