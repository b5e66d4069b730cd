/**
 * Where the repository root is, from this module's own location: src/platform
 * under ts-jest/tsx, dist/src/platform after `tsc`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}
