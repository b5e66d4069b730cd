import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { listen } from '../../../src/platform/listen';

const ok = (_req: unknown, res: { end(): void }) => res.end();

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('listen', () => {
  it('resolves with the listening server (port 0: the one the system picked)', async () => {
    const server = await listen(ok, 0, '127.0.0.1');
    try {
      expect((server.address() as AddressInfo).port).toBeGreaterThan(0);
    } finally {
      await close(server);
    }
  });

  it('rejects naming host, port and EADDRINUSE when the port is taken', async () => {
    const taken = createServer(ok);
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const failed = listen(ok, port, '127.0.0.1');
      await expect(failed).rejects.toThrow(`cannot listen on 127.0.0.1:${port}`);
      await expect(failed).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await close(taken);
    }
  });

  it('answers a request Node cannot read in the one error shape, not with an empty body (review, 12-07)', async () => {
    const server = await listen(ok, 0, '127.0.0.1');
    const { port } = server.address() as AddressInfo;
    const send = (raw: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(raw));
        let answer = '';
        socket.on('data', (d) => (answer += d.toString()));
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
      });
    try {
      const cases = [
        [
          `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
          431,
          'request headers too large',
        ],
        ['GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'malformed HTTP request'],
      ] as const;
      for (const [raw, status, message] of cases) {
        const answer = await send(raw);
        const [head, body] = answer.split('\r\n\r\n');
        expect([status, head?.split('\r\n')[0], JSON.parse(body ?? '')]).toEqual([
          status,
          expect.stringMatching(new RegExp(`^HTTP/1.1 ${status} `)),
          { error: { code: 'bad_request', message } },
        ]);
        expect(head).toMatch(/content-type: application\/json/i);
      }
      // a request it can read is the handler's
      expect(await send('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(
        /^HTTP\/1.1 200 /,
      );
    } finally {
      await close(server);
    }
  });

  it('answers chunk extensions past Node’s limit 413 payload_too_large, as every 413 (review, 12-07)', async () => {
    // the handler reads the body before it answers, so no response has begun
    const reading = (req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    };
    const server = await listen(reading, 0, '127.0.0.1');
    const { port } = server.address() as AddressInfo;
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () =>
          socket.write(
            'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
              `5;${'e'.repeat(20_000)}\r\nhello\r\n0\r\n\r\n`,
          ),
        );
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      const [head, body] = answer.split('\r\n\r\n');
      expect([head?.split('\r\n')[0], JSON.parse(body ?? '')]).toEqual([
        'HTTP/1.1 413 Payload Too Large',
        { error: { code: 'payload_too_large', message: 'chunk extensions too large' } },
      ]);
    } finally {
      await close(server);
    }
  });

  it('cuts the connection, as Node does, when a response on it has begun: no answer inside it (review of the change)', async () => {
    const slow = (_req: unknown, res: ServerResponse) => {
      res.writeHead(200, { 'content-length': '20' });
      res.write('0123456789');
      setTimeout(() => res.end('abcdefghij'), 300);
    };
    const server = await listen(slow, 0, '127.0.0.1');
    const { port } = server.address() as AddressInfo;
    try {
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1', () =>
          socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n'),
        );
        let text = '';
        socket.on('data', (d) => {
          // a malformed request pipelined once the first response is under way
          if (text === '') socket.write('GET /a b c HTTP/1.1\r\n\r\n');
          text += d.toString();
        });
        socket.on('close', () => resolve(text));
        socket.on('error', () => undefined);
      });
      expect(answer).toMatch(/^HTTP\/1.1 200 /);
      expect(answer).not.toContain('HTTP/1.1 400');
    } finally {
      await close(server);
    }
  });

  it('rejects naming the host when it is no address of this machine', async () => {
    // TEST-NET-3 (RFC 5737): never a local address.
    const failed = listen(ok, 8080, '203.0.113.1');
    await expect(failed).rejects.toThrow('cannot listen on 203.0.113.1:8080');
    await expect(failed).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
  });
});
