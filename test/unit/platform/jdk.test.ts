/**
 * jdkOf: which JDK the launcher runs on, for its class archive (review, 12-07: a JDK 17
 * without its base archive refused to start with the dump flag, on every start).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { javaBinary, jdkOf } from '../../../src/platform/jdk';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coterie-jdk-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A JDK's layout: bin/java, lib/server/libjvm.so and, optionally, its base archive. */
function fakeJdk(name: string, baseArchive: boolean): string {
  const home = path.join(dir, name);
  fs.mkdirSync(path.join(home, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(home, 'lib', 'server'), { recursive: true });
  fs.writeFileSync(path.join(home, 'bin', 'java'), '');
  fs.writeFileSync(path.join(home, 'lib', 'server', 'libjvm.so'), name);
  if (baseArchive) fs.writeFileSync(path.join(home, 'lib', 'server', 'classes.jsa'), '');
  return home;
}

it('says whether the JDK ships its base archive, found through JAVA_HOME or PATH', () => {
  const withArchive = fakeJdk('a', true);
  const without = fakeJdk('b', false);
  const env = { JAVA_HOME: withArchive };
  expect(jdkOf(javaBinary(env), env)).toMatchObject({ baseArchive: true });
  const onPath = { PATH: path.join(without, 'bin') };
  expect(javaBinary(onPath)).toBe('java');
  expect(jdkOf('java', onPath)).toMatchObject({ baseArchive: false });
  // sharing turned off for every JVM: no archive either
  for (const name of ['JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', '_JAVA_OPTIONS']) {
    const off = { JAVA_HOME: withArchive, [name]: '-Xshare:off' };
    expect([name, jdkOf(javaBinary(off), off)?.baseArchive]).toEqual([name, false]);
  }
});

it('a stamp per JDK, changed when the JDK is updated in place; none for what is not a JDK', () => {
  const a = jdkOf(path.join(fakeJdk('a', true), 'bin', 'java'), {});
  const b = jdkOf(path.join(fakeJdk('b', true), 'bin', 'java'), {});
  expect(a?.stamp).toMatch(/^[0-9a-f]{12}$/);
  expect(b?.stamp).not.toBe(a?.stamp);
  fs.writeFileSync(path.join(dir, 'a', 'lib', 'server', 'libjvm.so'), 'a, updated');
  expect(jdkOf(path.join(dir, 'a', 'bin', 'java'), {})?.stamp).not.toBe(a?.stamp);
  fs.mkdirSync(path.join(dir, 'bare', 'bin'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'bare', 'bin', 'java'), '');
  expect(jdkOf(path.join(dir, 'bare', 'bin', 'java'), {})).toBeNull();
  expect(jdkOf('java', { PATH: '' })).toBeNull();
});

it("finds this machine's JDK with its base archive (the JDK the launcher's tests run on)", () => {
  expect(jdkOf(javaBinary())).toMatchObject({ baseArchive: true });
});
