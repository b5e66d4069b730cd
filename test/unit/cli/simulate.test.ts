/** `coterie simulate`: its progress bar is stopped before an error is printed, not drawn over it. */
import { simulateCommand } from '../../../src/cli/simulate';
import { progressBar } from '../../../src/cli/terminal';
import { simulate } from '../../../src/simulate';

jest.mock('../../../src/simulate', () => ({ simulate: jest.fn() }));
jest.mock('../../../src/cli/terminal', () => ({ progressBar: jest.fn() }));

function fakeBar() {
  const calls: string[] = [];
  const bar = {
    start: () => calls.push('start'),
    setTotal: () => calls.push('setTotal'),
    update: () => calls.push('update'),
    stop: () => calls.push('stop'),
  };
  jest.mocked(progressBar).mockReturnValue(bar as never);
  return calls;
}

describe('simulateCommand', () => {
  it('stops its bar when the simulation fails (a full disk), before the error reaches the caller', async () => {
    const calls = fakeBar();
    jest.mocked(simulate).mockImplementation(async (opts) => {
      opts.onProgress?.({ day: 1, days: 30, events: 10 });
      throw new Error('ENOSPC: no space left on device');
    });
    await expect(simulateCommand({ scale: 0.01, seed: 1, out: '/nowhere' })).rejects.toThrow(
      'ENOSPC',
    );
    expect(calls).toEqual(['start', 'setTotal', 'update', 'stop']);
  });

  it('stops its bar before printing the result', async () => {
    const calls = fakeBar();
    const log = jest.spyOn(console, 'log').mockImplementation(() => calls.push('print'));
    jest.mocked(simulate).mockResolvedValue({ events: 0 } as never);
    try {
      await simulateCommand({ scale: 0.01, seed: 1, out: '/nowhere' });
    } finally {
      log.mockRestore();
    }
    expect(calls).toEqual(['start', 'stop', 'print']);
  });
});
