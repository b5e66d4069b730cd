/** Starts the HTTP server, and says plainly when it cannot (a port taken, a bad host). */
import { createServer, type RequestListener, type Server } from 'node:http';

/**
 * Resolves with the listening server, or rejects naming host and port with the
 * system's error (code kept: EADDRINUSE, EADDRNOTAVAIL, EACCES, ENOTFOUND…).
 * Not express's app.listen: its callback also receives a listen error, and reading the
 * address there failed with a TypeError that named neither.
 */
export function listen(handler: RequestListener, port: number, host: string): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      const error = new Error(`cannot listen on ${host}:${port}: ${err.message}`, { cause: err });
      reject(Object.assign(error, { code: err.code }));
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve(server);
    });
  });
}
