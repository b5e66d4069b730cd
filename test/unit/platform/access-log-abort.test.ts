/**
 * A request whose client hangs up before the answer still gets its access-log line and
 * its request metric (review, 12-06: both listened for 'finish' only, so an ingest batch
 * written after its client left named no caller anywhere).
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { accessLog } from '../../../src/platform/access-log';
import { createLogger } from '../../../src/platform/logger';
import { Metrics } from '../../../src/platform/metrics';

it('logs and counts a request whose client closed before the answer, as aborted', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const metrics = new Metrics();
  let handled!: () => void;
  const handledOnce = new Promise<void>((r) => (handled = r));
  const app = express();
  app.use(metrics.middleware());
  app.use(accessLog(createLogger('info', sink), () => false));
  app.use((req, _res, next) => {
    req.principal = { name: 'producer-7', role: 'ingest' };
    next();
  });
  app.post('/slow', (_req, res) => {
    setTimeout(() => {
      res.json({ ok: true });
      handled();
    }, 300);
  });
  app.get('/fast', (_req, res) => {
    res.json({ ok: true });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  try {
    // hung up at once: the handler still runs, and answers no one
    const socket = connect(port, '127.0.0.1', () => {
      socket.end('POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
    });
    await handledOnce;
    expect((await fetch(`http://127.0.0.1:${port}/fast`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests).toEqual([
      expect.objectContaining({ url: '/slow', aborted: true, caller: 'producer-7' }),
      expect.objectContaining({ url: '/fast', status: 200, caller: 'producer-7' }),
    ]);
    expect(requests[0]).not.toHaveProperty('status');
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /coterie_http_request_duration_seconds_count\{[^}]*route="\/slow"[^}]*status="aborted"[^}]*\} 1/,
    );
    expect(text).toMatch(
      /coterie_http_request_duration_seconds_count\{[^}]*route="\/fast"[^}]*status="200"[^}]*\} 1/,
    );
  } finally {
    await new Promise((r) => server.close(r));
  }
});
