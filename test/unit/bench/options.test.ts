/** The ingest and query benches' numeric options (review, 12-06: 'abc' ran as NaN). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { shareOption, wholeOption } from '../../../bench/options';

describe('bench options', () => {
  it('reads plain whole numbers at or above the minimum, and refuses the rest naming the option', () => {
    expect(wholeOption('events', '1000000')).toBe(1_000_000);
    expect(wholeOption('warm-up', '0', 0)).toBe(0);
    for (const text of ['abc', '', ' ', '1e3', '0x10', '-1', '1.5', '0', undefined]) {
      expect(() => wholeOption('rounds', text)).toThrow(
        /^--rounds: ".*" is not a whole number ≥ 1$/,
      );
    }
  });

  it('reads a share in (0, 1]', () => {
    expect(shareOption('cluster-share', '0.3')).toBe(0.3);
    expect(shareOption('cluster-share', '1')).toBe(1);
    for (const text of ['0', '1.5', 'x', '', '.']) {
      expect(() => shareOption('cluster-share', text)).toThrow(/^--cluster-share: /);
    }
  });
});

describe("a bench script's command line", () => {
  // heavy-account reads its options at top level, fetch-size inside runBench's main:
  // both paths of a bad value. Neither gets far enough to start work or a Neo4j.
  const run = (script: string, ...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join('bench', script), ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('answers --help with its header comment and options, exit 0', () => {
    const r = run('linkage/heavy-account.ts', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("build's cost with one heavy account");
    expect(r.stdout).toContain('--ips <value> (default 10000,20000,40000,80000)');
    expect(r.stdout).toContain('--rounds <value> (default 3)');
  });

  it('answers an unknown option or a bad value with one line, exit 2', () => {
    const cases: [string, string[], RegExp][] = [
      ['linkage/heavy-account.ts', ['--bogus'], /^heavy-account\.ts: Unknown option '--bogus'/],
      ['linkage/heavy-account.ts', ['--rounds', 'abc'], /^--rounds: "abc" is not a whole number/],
      [
        'query/fetch-size.ts',
        ['--rows'],
        /^fetch-size\.ts: Option '--rows <value>' argument missing/,
      ],
      ['query/fetch-size.ts', ['--rows', 'x'], /^--rows: "x" is not a whole number/],
    ];
    for (const [script, args, message] of cases) {
      const r = run(script, ...args);
      expect({ script, args, status: r.status }).toEqual({ script, args, status: 2 });
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
      expect(r.stderr).toContain('(--help lists the options)');
    }
  });
});
