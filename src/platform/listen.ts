/** Starts the HTTP server, and says plainly when it cannot (a port taken, a bad host). */
import { createServer, type RequestListener, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Resolves with the listening server, or rejects naming host and port with the
 * system's error (code kept: EADDRINUSE, EADDRNOTAVAIL, EACCES, ENOTFOUND…).
 * Not express's app.listen: its callback also receives a listen error, and reading the
 * address there failed with a TypeError that named neither.
 */
export function listen(handler: RequestListener, port: number, host: string): Promise<Server> {
  const server = createServer(handler);
  server.on('clientError', answerClientError);
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

/** What Node's own answer to a request it could not read means, by its error's code. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'bad_request', 'request headers too large'],
  // as every other 413 (review, 12-07: it said bad_request)
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'payload_too_large', 'chunk extensions too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'bad_request', 'request not received in time'],
};

/**
 * A request Node cannot read (headers past its limit, a malformed request line, one too
 * slow) is answered by Node itself, with no body; here in the one error shape instead
 * (review, 12-07). Then the connection closes: what follows on it cannot be read either.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A response already begun on this connection (a pipelined request after it, a body
  // that went wrong after its answer): an answer now would land inside or after it, so
  // the connection is cut, as Node does (review of the change).
  const current = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || current?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, code, message] = CLIENT_ERRORS[err.code ?? ''] ?? [
    400,
    'bad_request',
    'malformed HTTP request',
  ];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  (socket as Duplex & { destroySoon?: () => void }).destroySoon?.(); // not held open by the client
}
