import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../../src/platform/config';
import { embeddedLauncherRoot } from '../../../src/platform/connect';

describe('embeddedLauncherRoot', () => {
  it('finds the checkout that holds neo4j-local/', () => {
    expect(embeddedLauncherRoot(__dirname)).toBe(path.resolve(__dirname, '../../..'));
  });

  it('says to set NEO4J_URI where there is no launcher, as in the Docker image (config review, 12-07)', () => {
    // The image has no neo4j-local/: a start without NEO4J_URI crashed with a stack trace.
    let thrown: unknown;
    try {
      embeddedLauncherRoot(os.tmpdir());
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(/NEO4J_URI is unset.*set NEO4J_URI/);
  });
});
