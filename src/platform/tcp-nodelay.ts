/**
 * Turns Nagle's algorithm off for the Bolt sockets neo4j-driver opens.
 *
 * Why: neo4j-driver 5.x sets only keep-alive on its sockets. A RUN whose
 * parameters span several writes is followed by a small PULL write; with Nagle on,
 * that write waits for the server's delayed ACK (tens of ms on Linux). On this
 * project's ingest statements that stall cost more than the database's own work
 * (bench/RESULTS.md, "Bolt sockets with Nagle off"). The Python driver sets
 * TCP_NODELAY for the same reason (neo4j/neo4j-python-driver#1122).
 *
 * How: the driver calls `net.connect` / `tls.connect` on the module objects when it
 * opens a connection, so wrapping those two functions once reaches every socket
 * it makes. Other callers of them get the same option, which only lowers latency.
 */
import net from 'node:net';
import tls from 'node:tls';

const WRAPPED = Symbol.for('coterie.tcpNoDelay');

type Connect = ((...args: never[]) => net.Socket) & { [WRAPPED]?: true };

function wrap<M extends { connect: Connect }>(mod: M): void {
  const original = mod.connect;
  if (original[WRAPPED]) return;
  const wrapped: Connect = (...args) => original(...args).setNoDelay(true);
  wrapped[WRAPPED] = true;
  mod.connect = wrapped as M['connect'];
}

/** Idempotent; called before any driver is created. */
export function enableTcpNoDelay(): void {
  wrap(net as unknown as { connect: Connect });
  wrap(tls as unknown as { connect: Connect });
}
