// Jest's node environment, plus a report of what a test file leaves open. Jest warns when
// a worker "failed to exit gracefully" but not which file kept it alive; this names the
// file and the kinds of handle (a socket, a child process, a timer) still open after its
// afterAll hooks, measured against what the worker had open before the file started
// (counts per kind, so a leaked timer can hide behind one of Jest's own that ended).
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';
import { Socket } from 'node:net';

// Node's handle list (undocumented, long-standing): the only way to tell a socket's ends,
// which says whose it is (the file's Neo4j port: a driver; the service's: an HTTP client).
const handles = (): unknown[] =>
  (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();

// Give closes that are already on their way (a socket's FIN, a child's exit) a moment.
const SETTLE_MS = 200;

function countByKind(kinds: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

export default class HandleReportEnvironment extends TestEnvironment {
  private readonly testPath: string;
  private before = new Map<string, number>();
  private handlesBefore = new Set<unknown>();

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.testPath = context.testPath;
  }

  override async setup(): Promise<void> {
    await super.setup();
    this.before = countByKind(process.getActiveResourcesInfo());
    this.handlesBefore = new Set(handles());
  }

  override async teardown(): Promise<void> {
    await new Promise<void>((resolve) => setTimeout(resolve, SETTLE_MS).unref());
    const after = countByKind(process.getActiveResourcesInfo());
    const extra: string[] = [];
    for (const [kind, n] of after) {
      const more = n - (this.before.get(kind) ?? 0);
      if (more > 0) extra.push(`${kind} ×${more}`);
    }
    if (extra.length > 0) {
      const sockets = handles()
        .filter((h): h is Socket => h instanceof Socket && !this.handlesBefore.has(h))
        .map((h) => `${h.localPort ?? '?'}→${h.remoteAddress ?? '?'}:${h.remotePort ?? '?'}`);
      const ends = sockets.length > 0 ? `; sockets ${sockets.join(', ')}` : '';
      process.stderr.write(
        `open after ${this.testPath}: ${extra.join(', ')} (more than before the file)${ends}\n`,
      );
    }
    await super.teardown();
  }
}
