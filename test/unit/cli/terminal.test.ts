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
