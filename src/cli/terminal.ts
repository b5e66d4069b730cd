/** What every CLI command shows and handles on the terminal: progress bars and Ctrl-C. */
import { Format, SingleBar } from 'cli-progress';
import { STOP_SIGNALS } from '../platform/stop';

/** A progress bar on stderr (stdout carries the command's JSON result); redrawn every 5 s without a TTY. */
export function progressBar(format: string, etaBuffer?: number): SingleBar {
  return new SingleBar({
    format,
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 5000,
    // Until a rate is known the ETA is 'INF' or 'NULL', which the default formatter
    // cuts to "NFs" / "LLs".
    formatTime: (t, options, roundTo) =>
      typeof t === 'number' && Number.isFinite(t) ? Format.TimeFormat(t, options, roundTo) : '--',
    ...(etaBuffer === undefined ? {} : { etaBuffer }),
  });
}

/**
 * A line on stderr, whatever LOG_LEVEL: for a wait the user must know about (the first
 * run building the embedded launcher with Maven, minutes), which the CLI's warn-level
 * logger would hide.
 */
export function sayOnStderr(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/**
 * Ctrl-C / SIGTERM / SIGHUP (a closed terminal) abort `signal` (after printing `message`)
 * instead of killing the process, so the command can stop cleanly; `dispose()` restores
 * the default.
 */
export function stopOnSignal(message: string): { signal: AbortSignal; dispose(): void } {
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) return; // said once: another signal of the set, later
    process.stderr.write(`\n${message}\n`);
    abort.abort();
  };
  // `on`, not `once`: `npm run` passes on the Ctrl-C the terminal also sent, and a second
  // signal must not find the default action (death) back in place.
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return {
    signal: abort.signal,
    dispose() {
      for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal);
    },
  };
}
