/**
 * What the service and the CLI share when a signal stops them: which signals, the exit
 * code, and stopping what a start-up has started so far.
 */
import { constants } from 'node:os';
import type { Connection } from './connect';
import { stopChildProcesses } from './neo4j-local';

/** The signals that stop a process of ours (SIGHUP: its terminal closed; there is no reload). */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** 128 + the signal's number, as a shell reports a process the signal ended. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

/** Resolves never: what start-up waits on once a signal has stopped it (the stop exits). */
export const never = (): Promise<never> => new Promise(() => undefined);

/**
 * Stops what a start-up has started: the connection (the driver, the embedded Neo4j and
 * its bolt.uri / bolt.password) or, before there is one, a launcher still starting or
 * its Maven build. Never rejects: a failure goes to `onError`.
 */
export async function stopStarted(
  connection: Connection | undefined,
  onError: (err: unknown) => void,
): Promise<void> {
  try {
    await (connection ? connection.close() : stopChildProcesses());
  } catch (err) {
    onError(err);
  }
}
