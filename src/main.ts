/**
 * The service: parse config, find (or start) Neo4j, apply migrations, serve.
 * SIGINT/SIGTERM/SIGHUP stop accepting requests, close the driver, and stop the local
 * Neo4j if this process started it; during start-up they stop what was started and
 * exit 128 + the signal's number.
 */
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { createApp } from './app';
import { startEventIdRetention } from './ingest/retention';
import { watchDeadRuns } from './linkage/dead-runs';
import { startLinkageSchedule } from './linkage/schedule';
import { watchCurrentRun } from './clusters/state';
import { activeRunsEnded, stopActiveRuns } from './linkage/runner';
import { checkLinkageConfig } from './linkage/settings';
import type { Context } from './context';
import { LOOPBACK, parseApiKeys } from './platform/auth';
import { ConfigError, loadConfig, warnUnknownSettings } from './platform/config';
import { type Connection, connect, Neo4jUnreachable } from './platform/connect';
import { loadCypher } from './platform/cypher';
import { PrerequisiteMissing } from './platform/neo4j-local';
import { listen } from './platform/listen';
import { createLogger, logDestination } from './platform/logger';
import { Metrics } from './platform/metrics';
import { migrate } from './platform/migrations';
import { never, signalExitCode, STOP_SIGNALS, stopStarted } from './platform/stop';

/** How long a stop waits for requests in flight before it closes their connections. */
const SHUTDOWN_GRACE_MS = 10_000;

/** A signal stopped start-up: main() leaves the process to that stop, which exits. */
let startupStopped = false;

async function main(): Promise<void> {
  const config = loadConfig();
  checkLinkageConfig(config); // a typo in the allow-list, weights or schedule stops start-up
  const logger = createLogger(config.LOG_LEVEL, logDestination(1, config.LOG_SYNC));
  warnUnknownSettings(logger);
  const keys = parseApiKeys(config.API_KEYS);
  let host = config.HOST;
  if (keys.length === 0) {
    logger.warn(
      '!!! NO API KEYS CONFIGURED: authentication is OFF and every caller is admin. ' +
        'Listening on loopback only. Set API_KEYS to serve anything but this machine. !!!',
    );
    if (!(LOOPBACK as readonly string[]).includes(host)) host = '127.0.0.1';
  }

  // A stop signal from here on ends the process through this code, not by its default
  // action (which runs no clean-up, and which Node as a container's PID 1 does not even
  // have): during start-up (the launcher's Maven build, Neo4j's start, up to 180 s, and
  // the migrations' index waits) it stops what was started: the driver, the embedded
  // Neo4j and its bolt.uri / bolt.password; once serving, the graceful stop below.
  const started: {
    connection?: Connection;
    /** The graceful stop, once serving. */
    stop?: (signal: NodeJS.Signals) => Promise<void>;
  } = {};
  const stopStartup = async (signal: NodeJS.Signals) => {
    if (startupStopped) return;
    startupStopped = true;
    logger.info({ signal }, 'stopping during start-up');
    await stopStarted(started.connection, (err) => logger.error({ err }, 'could not stop cleanly'));
    logger.info({ signal }, 'start-up stopped');
    process.exit(signalExitCode(signal));
  };
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => void (started.stop ? started.stop(signal) : stopStartup(signal)));
  }

  /** The graceful stop has begun (set by `stop` below). */
  let stopping = false;
  const connection = await connect(config, logger, {
    // Nothing this process does can work without it, and nothing is left to clean up
    // in it: a run in progress is failed by whoever next takes its expired lease.
    onLocalExit: (why) => {
      if (startupStopped) return; // stopped by the signal, which exits
      // The same stop may have reached it too (systemd signals the whole unit): the
      // graceful stop goes on, and what it can no longer write is left to the lease.
      if (stopping) return logger.warn({ exit: why }, 'the embedded Neo4j exited during the stop');
      logger.fatal({ exit: why }, 'the embedded Neo4j exited; stopping');
      process.exit(1);
    },
  });
  started.connection = connection;
  if (startupStopped) return never();
  const cypher = loadCypher();
  const migrations = await migrate(connection.db, cypher, { log: (m) => logger.info(m) });
  if (startupStopped) return never();
  logger.info(
    { applied: migrations.applied.length, skipped: migrations.skipped.length },
    'migrations done',
  );

  const ctx: Context = {
    config,
    logger,
    db: connection.db,
    cypher,
    metrics: new Metrics(),
    keys,
    stopping: () => stopping,
  };
  // Listening first: a port taken or a bad HOST then has only the connection to close.
  const server = await listen(createApp(ctx), config.PORT, host).catch(async (err: unknown) => {
    if (startupStopped) return never();
    logger.fatal({ err, host, port: config.PORT }, (err as Error).message);
    await connection.close();
    process.exit(1);
  });
  if (startupStopped) {
    server.close();
    return never();
  }
  // An accept() that fails later (ENFILE, ENOMEM) is emitted as 'error': with no listener
  // it would end the process; the server goes on listening.
  server.on('error', (err) =>
    logger.error({ err }, 'the HTTP server could not accept a connection'),
  );
  // The bound port, not config.PORT: with PORT=0 the system picks one.
  const { port } = server.address() as AddressInfo;
  logger.info({ host, port, neo4j: connection.uri }, 'coterie is listening');
  const linkageSchedule = startLinkageSchedule(ctx);
  const eventIdRetention = startEventIdRetention(ctx);
  const currentRunWatch = watchCurrentRun(ctx);
  const deadRunWatch = watchDeadRuns(ctx);

  // While stopping, every response closes its connection, those in flight when the stop
  // began included: a keep-alive client that keeps sending would otherwise hold
  // server.close() open for as long as it sends.
  const inFlight = new Set<ServerResponse>();
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (stopping) return res.setHeader('connection', 'close');
    inFlight.add(res);
    res.on('close', () => inFlight.delete(res));
  });
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    logger.info({ signal }, 'shutting down');
    const scheduleStopped = linkageSchedule.stop();
    currentRunWatch.stop();
    const deadRunCheckEnded = deadRunWatch.stop();
    // Runs are failed (their leases freed) while the listener closes, not before it: with
    // Neo4j unreachable that write retries for the driver's 30 s, and the stop would wait.
    const runsFailed = stopActiveRuns(ctx, { refuseNew: true });
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Requests still unanswered after the grace period (a slow read, a stuck client) are cut.
    const cut = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    // The failed runs' records, the runs (scheduled or started through the API) removing
    // what they wrote, a scheduled run's tick logging its end, a prune's batch and a check
    // for dead runs: waited
    // for within the same grace period, then the driver closes. What is cut there is left
    // to the lease's expiry and the next run's and prune's housekeeping.
    const grace = delay(SHUTDOWN_GRACE_MS, undefined, { ref: false });
    const runsEnded = Promise.all([
      runsFailed.then(activeRunsEnded),
      scheduleStopped,
      eventIdRetention.stop(),
      deadRunCheckEnded,
    ]);
    await Promise.all([closed, Promise.race([runsEnded, grace])]);
    clearTimeout(cut);
    const unclean = await connection.close();
    if (unclean !== null) {
      // Its store may need recovery at the next start: a supervisor should hear of it.
      logger.error(
        { signal, exit: unclean },
        'stopped, but the embedded Neo4j did not stop cleanly',
      );
      process.exit(1);
    }
    logger.info(
      { signal },
      ctx.config.NEO4J_URI ? 'stopped' : 'stopped (and the embedded Neo4j with it)',
    );
    process.exit(0);
  };
  started.stop = stop;
}

main().catch((err: unknown) => {
  if (startupStopped) return; // a signal stopped start-up (whatever then failed): it exits
  // A setting refused, or a Neo4j that does not answer, says what to change; a stack
  // trace is for a crash.
  const plain =
    err instanceof ConfigError ||
    err instanceof Neo4jUnreachable ||
    err instanceof PrerequisiteMissing;
  console.error(plain ? err.message : err instanceof Error ? err.stack : err);
  process.exit(1);
});
