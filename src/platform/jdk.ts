/**
 * The JDK the launcher runs on, as its class archive needs to know it (neo4j-local.ts
 * `classArchive`).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface Jdk {
  /**
   * Changes with the JVM: another JDK, or this one updated in place. An archive is named
   * by it, as a JVM refuses one dumped by another JVM (it warns at every start).
   */
  stamp: string;
  /**
   * The JDK ships its base class archive (`lib/server/classes*.jsa`). JDK 17 refuses to
   * start with `-XX:ArchiveClassesAtExit` without it (JDK-8279997): some macOS and jlink
   * builds ship none.
   */
  baseArchive: boolean;
}

/** `java` as a path, or looked up on PATH. */
export function javaBinary(env: NodeJS.ProcessEnv = process.env): string {
  const exe = process.platform === 'win32' ? 'java.exe' : 'java';
  if (env.JAVA_HOME) {
    const candidate = path.join(env.JAVA_HOME, 'bin', exe);
    if (fs.existsSync(candidate)) return candidate;
  }
  return exe;
}

/** The JDK of a java binary; null when its layout is not a JDK's (no class archive then). */
export function jdkOf(java: string, env: NodeJS.ProcessEnv = process.env): Jdk | null {
  const found = onPath(java, env);
  if (found === undefined) return null;
  try {
    const home = path.dirname(path.dirname(fs.realpathSync(found)));
    const server = path.join(home, 'lib', 'server');
    const lib = ['libjvm.so', 'libjvm.dylib', 'jvm.dll']
      .map((f) => path.join(server, f))
      .find((f) => fs.existsSync(f));
    if (lib === undefined) return null;
    const st = fs.statSync(lib);
    const stamp = createHash('sha256')
      .update(`${lib}\n${st.size}\n${st.mtimeMs}`)
      .digest('hex')
      .slice(0, 12);
    const baseArchive =
      fs.readdirSync(server).some((f) => /^classes.*\.jsa$/.test(f)) &&
      // sharing turned off for every JVM: no base archive is loaded either
      !/-Xshare:off\b/.test(
        `${env.JAVA_TOOL_OPTIONS ?? ''} ${env.JDK_JAVA_OPTIONS ?? ''} ${env._JAVA_OPTIONS ?? ''}`,
      );
    return { stamp, baseArchive };
  } catch {
    return null;
  }
}

function onPath(file: string, env: NodeJS.ProcessEnv): string | undefined {
  if (file.includes(path.sep)) return fs.existsSync(file) ? file : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, file);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}
