// The quality benches' caches are keyed on the code that made them: a simulated world is
// made again when the simulator's sources change, not only when the overrides do.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { runInMemory } from '../../../bench/quality/in-memory';
import { FOLD_SOURCES, SIMULATOR_SOURCES, sourceHash } from '../../../bench/quality/source-hash';

jest.setTimeout(120_000);

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'coterie-cache-key-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('sourceHash', () => {
  it('changes with any file under a root, its content or its name, not with documentation', () => {
    const root = tmp();
    mkdirSync(join(root, 'sim/deep'), { recursive: true });
    writeFileSync(join(root, 'sim/a.ts'), 'a');
    writeFileSync(join(root, 'sim/deep/b.ts'), 'b');
    writeFileSync(join(root, 'other.ts'), 'o');
    const before = sourceHash(['sim'], root);
    expect(sourceHash(['sim'], root)).toBe(before);
    writeFileSync(join(root, 'other.ts'), 'changed');
    expect(sourceHash(['sim'], root)).toBe(before);
    writeFileSync(join(root, 'sim/deep/b.ts'), 'b2');
    const edited = sourceHash(['sim'], root);
    expect(edited).not.toBe(before);
    writeFileSync(join(root, 'sim/deep/c.ts'), '');
    expect(sourceHash(['sim'], root)).not.toBe(edited);
    expect(sourceHash(['sim', 'other.ts'], root)).not.toBe(sourceHash(['sim'], root));
    const code = sourceHash(['sim'], root);
    writeFileSync(join(root, 'sim/README.md'), 'docs');
    expect(sourceHash(['sim'], root)).toBe(code);
  });

  it('covers the simulator folder', () => {
    expect(SIMULATOR_SOURCES).toContain('src/simulate');
    expect(sourceHash(SIMULATOR_SOURCES)).toMatch(/^[0-9a-f]{64}$/);
  });

  // Review: the fold's key missed identifier-table.ts, whose class in-memory.ts attaches
  // to a cached table, so a changed layout would have read stale identifiers.
  it.each([
    ['simulator', 'src/simulate/index.ts', SIMULATOR_SOURCES],
    ['fold', 'bench/quality/fold.ts', FOLD_SOURCES],
  ])('the %s key covers every file its entry imports at run time', (_, entry, roots) => {
    const repo = resolve(__dirname, '../../..');
    const closure = runtimeImports(repo, entry);
    expect(closure.length).toBeGreaterThan(3);
    const uncovered = closure.filter(
      (file) => !roots.some((r) => file === r || file.startsWith(`${r}/`)),
    );
    // src/linkage/rng.ts gives the simulator MAX_SEED only, a constant
    expect(uncovered.filter((f) => f !== 'src/linkage/rng.ts')).toEqual([]);
  });
});

describe('runInMemory cache', () => {
  it('reuses a world while its key holds, and simulates again when the simulator changed', async () => {
    const dir = tmp();
    const first = await runInMemory(dir, 0.002, 3);
    expect(first.times).toMatch(/^simulate .* fold /);
    const again = await runInMemory(dir, 0.002, 3);
    expect(again.times).toMatch(/^load cached input /);
    // The same overrides, but made by other simulator sources: simulated and folded again.
    const stamp = join(dir, 'simulation.json');
    const key = JSON.parse(readFileSync(stamp, 'utf8')) as Record<string, unknown>;
    writeFileSync(stamp, JSON.stringify({ ...key, simulator: 'an older simulator' }));
    const stale = await runInMemory(dir, 0.002, 3);
    expect(stale.times).toMatch(/^simulate .* fold /);
    expect(stale.evaluation).toEqual(first.evaluation);
    // Other overrides: simulated again.
    const other = await runInMemory(dir, 0.002, 3, { deviceShare: 0.5 });
    expect(other.times).toMatch(/^simulate /);
    expect(JSON.parse(readFileSync(stamp, 'utf8'))).toMatchObject({
      params: { deviceShare: 0.5 },
    });
  });
});

/** Repository-relative .ts files reached from `entry` by relative imports that are not type-only. */
function runtimeImports(repo: string, entry: string): string[] {
  const seen = new Set<string>();
  const visit = (rel: string) => {
    if (seen.has(rel)) return;
    seen.add(rel);
    const text = readFileSync(join(repo, rel), 'utf8');
    const re = /^(?:import|export)\s+(?!type\s)[^;]*?from\s+'(\.[^']+)'/gms;
    for (const m of text.matchAll(re)) {
      const base = resolve(repo, dirname(rel), m[1] as string);
      const file = [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(f));
      if (!file) throw new Error(`${rel}: cannot resolve ${m[1]}`);
      visit(relative(repo, file));
    }
  };
  visit(entry);
  return [...seen].sort();
}
