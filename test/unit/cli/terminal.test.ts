import { spawn } from 'node:child_process';
import path from 'node:path';
import { progressBar } from '../../../src/cli/terminal';

describe('progressBar', () => {
  it('shows "--" for an ETA that is not known yet, and a time once it is', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const bar = progressBar('ETA {eta_formatted}');
      bar.start(100, 0);
      await new Promise((go) => setTimeout(go, 20));
      bar.update(0); // no progress yet: no rate, the ETA is infinite
      bar.render();
      const unknown = written.join('');
      await new Promise((go) => setTimeout(go, 20));
      bar.update(50);
      bar.render();
      bar.stop();
      expect(unknown).toMatch(/ETA --/);
      expect(written.join('')).not.toMatch(/NF|LL/);
      expect(written.join('')).toMatch(/ETA \d+s/);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('stopOnSignal', () => {
  it('a second Ctrl-C (npm run passes on the one the terminal sent too) does not kill the process', async () => {
    // Review, 12-04: the handler was registered once, so the second SIGINT found the
    // default action back in place and an import died without its summary.
    const terminal = JSON.stringify(path.join(__dirname, '../../../src/cli/terminal.ts'));
    const script = [
      `const { stopOnSignal } = require(${terminal});`,
      `const { signal } = stopOnSignal('stopping');`,
      `signal.addEventListener('abort', () => setTimeout(() => {`,
      `  process.stdout.write('stopped cleanly\\n'); process.exit(0); }, 300));`,
      `setInterval(() => {}, 1000);`,
      `process.stdout.write('ready\\n');`,
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      child.on('exit', (code, sig) => resolve([code, sig])),
    );
    try {
      for (const until = Date.now() + 30_000; !out.includes('ready') && Date.now() < until;) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(out).toContain('ready');
      child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGINT');
      expect(await exited).toEqual([0, null]);
      expect(out).toContain('stopped cleanly');
      expect(err.match(/stopping/g)).toHaveLength(1); // said once
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
