/** `coterie linkage run`: a setting the run would refuse is said before Neo4j is reached. */
import { linkageRunCommand } from '../../../src/cli/linkage';
import { withRuntime } from '../../../src/cli/runtime';
import { runLinkage } from '../../../src/linkage/runner';

jest.mock('../../../src/cli/runtime', () => ({ withRuntime: jest.fn() }));
jest.mock('../../../src/linkage/runner', () => ({
  runLinkage: jest.fn(),
  stopActiveRuns: jest.fn(() => Promise.resolve()),
}));

const saved = { ...process.env };
beforeEach(() => {
  jest.mocked(withRuntime).mockReset();
  delete process.env.LINKAGE_ALLOWLIST;
  delete process.env.LINKAGE_WEIGHTS;
});
afterAll(() => {
  process.env = saved;
});

it.each([
  ['LINKAGE_ALLOWLIST', 'nope', 'LINKAGE_ALLOWLIST entry "nope" must be kind:value'],
  ['LINKAGE_WEIGHTS', '{"build":{"kindWeigth":{}}}', 'Invalid LINKAGE_WEIGHTS:'],
])('a typo in %s fails before Neo4j is reached, started or built', async (key, value, message) => {
  process.env[key] = value;
  await expect(linkageRunCommand({})).rejects.toThrow(message);
  expect(withRuntime).not.toHaveBeenCalled();
});

it('a good configuration goes on to the run', async () => {
  process.env.LINKAGE_ALLOWLIST = 'email_domain:example.edu';
  await linkageRunCommand({});
  expect(withRuntime).toHaveBeenCalledTimes(1);
});

it('says so when the stop came after the swap: the run succeeded, exit 0 (review, 12-06)', async () => {
  // It said only "it is marked failed", said at the signal, of a run that then succeeded.
  jest.mocked(withRuntime).mockImplementation((work) => work({} as never));
  jest.mocked(runLinkage).mockImplementation(() => {
    process.emit('SIGINT');
    return Promise.resolve({ status: 'succeeded' } as never);
  });
  const written: string[] = [];
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((text) => {
    written.push(String(text));
    return true;
  });
  const out = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  process.exitCode = undefined;
  try {
    await linkageRunCommand({});
  } finally {
    err.mockRestore();
    out.mockRestore();
  }
  expect(process.exitCode).toBeUndefined();
  expect(written.join('')).toContain(
    'the run had already published when the stop came: it succeeded',
  );
});
