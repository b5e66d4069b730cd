import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

  it('rejects naming the host when it is no address of this machine', async () => {
    // TEST-NET-3 (RFC 5737): never a local address.
    const failed = listen(ok, 8080, '203.0.113.1');
    await expect(failed).rejects.toThrow('cannot listen on 203.0.113.1:8080');
    await expect(failed).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
  });
});
