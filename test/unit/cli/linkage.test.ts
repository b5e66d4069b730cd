/** `coterie linkage run`: a setting the run would refuse is said before Neo4j is reached. */
import { linkageRunCommand } from '../../../src/cli/linkage';
import { withRuntime } from '../../../src/cli/runtime';

jest.mock('../../../src/cli/runtime', () => ({ withRuntime: jest.fn() }));

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
