/**
 * Loads every `.cypher` file under cypher/<feature>/ once at start-up into a map
 * keyed "feature/name" (e.g. "ingest/merge-accounts"). Queries live in files so
 * they can be read, reviewed and EXPLAINed on their own; code refers to them by key.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths';

export type CypherMap = ReadonlyMap<string, string>;

export function loadCypher(dir = path.join(repoRoot(), 'cypher')): CypherMap {
  const map = new Map<string, string>();
  for (const feature of readdirSync(dir).sort()) {
    const featureDir = path.join(dir, feature);
    if (!statSync(featureDir).isDirectory()) continue;
    for (const file of readdirSync(featureDir).sort()) {
      if (!file.endsWith('.cypher')) continue;
      map.set(
        `${feature}/${file.slice(0, -'.cypher'.length)}`,
        readFileSync(path.join(featureDir, file), 'utf8'),
      );
    }
  }
  return map;
}

export function query(map: CypherMap, key: string): string {
  const text = map.get(key);
  if (text === undefined) throw new Error(`unknown Cypher query "${key}"`);
  return text;
}
