/**
 * The environment of a process a test starts (the CLI, the service): what it needs to
 * start, and the variables the test sets. Not the test's own environment: a developer's
 * LINKAGE_WEIGHTS, LINKAGE_KEEP_RUNS, IMPORT_PART_ROWS, NEO4J_* … would change what the
 * process does, and so the test's result.
 */

/**
 * Passed on when set: PATH (node's tools, java and mvn for the embedded Neo4j), HOME
 * (Maven's repository), JAVA_HOME (the launcher's java, if set) and TMPDIR (tsx's cache,
 * the OS's temporary files).
 */
const INHERITED = ['PATH', 'HOME', 'JAVA_HOME', 'TMPDIR'] as const;

export function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...vars };
}
