// Jest's node environment, plus a report of what a test file leaves open. Jest warns when
// a worker "failed to exit gracefully" but not which file kept it alive; this names the
// file and the kinds of handle (a socket, a child process, a timer) still open after its
// afterAll hooks, measured against what the worker had open before the file started
// (counts per kind, so a leaked timer can hide behind one of Jest's own that ended).
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';

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

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.testPath = context.testPath;
  }

  override async setup(): Promise<void> {
    await super.setup();
    this.before = countByKind(process.getActiveResourcesInfo());
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
      process.stderr.write(
        `open after ${this.testPath}: ${extra.join(', ')} (more than before the file)\n`,
      );
    }
    await super.teardown();
  }
}
