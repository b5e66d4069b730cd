import { fromWorkerError, toWorkerError } from '../../../src/linkage/compute-thread';
import { AppError } from '../../../src/platform/errors';

describe("a linkage worker's error, sent to the main thread", () => {
  it('keeps its code, stack and causes (review, 12-05: only the message arrived)', () => {
    const driverError = Object.assign(new Error('Failed to connect to server 127.0.0.1:7687'), {
      name: 'Neo4jError',
    });
    const sent = new AppError('database_unavailable', 'Neo4j is unreachable', {
      cause: driverError,
    });
    // What postMessage carries: plain data, cloned.
    const received = fromWorkerError(structuredClone(toWorkerError(sent)));
    expect(received).toBeInstanceOf(AppError);
    expect(received).toMatchObject({ code: 'database_unavailable', message: sent.message });
    expect(received.stack).toBe(sent.stack);
    expect(received.cause).toBeInstanceOf(Error);
    expect(received.cause).toMatchObject({ name: 'Neo4jError', message: driverError.message });
    expect((received.cause as Error).stack).toBe(driverError.stack);
  });

  it('sends what is thrown that is no Error as its text, and stops at a cycle of causes', () => {
    expect(fromWorkerError(toWorkerError('just text')).message).toBe('just text');
    const looped = new Error('a');
    (looped as { cause?: unknown }).cause = looped;
    let depth = 0;
    for (let e: Error | undefined = fromWorkerError(toWorkerError(looped)); e; depth++) {
      e = e.cause as Error | undefined;
    }
    expect(depth).toBe(6);
  });
});
