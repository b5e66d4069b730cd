/**
 * Linkage bench: build + detect on a seeded synthetic population (see synthetic.ts),
 * then igraph's multilevel (Louvain) and Leiden on the very same account graph.
 *
 *   npx tsx bench/linkage/detect-bench.ts --accounts 1000000 [--seed 1] [--no-igraph]
 *   npx tsx bench/linkage/detect-bench.ts --accounts 1000000 --stress-edges 4800000
 *     (detect alone on a planted graph with one giant component, like the issue's
 *     reference figures: the worst case for detect, nothing for it to skip)
 *
 * Prints per-stage times, graph and detection stats, how well the planted campaigns
 * were recovered, the Node process's peak RSS, and igraph's figures.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { build } from '../../src/linkage/build';
import { detect } from '../../src/linkage/detect';
import type { LinkageGraph } from '../../src/linkage/types';
import { benchArgs, wholeOption } from '../options';
import { plantedGraph, synthesize } from './synthetic';

const args = benchArgs(__filename, {
  accounts: { type: 'string', default: '100000' },
  seed: { type: 'string', default: '1' },
  'no-igraph': { type: 'boolean', default: false },
  'stress-edges': { type: 'string', default: '0' },
});
const accounts = wholeOption('accounts', args.accounts);
const seed = wholeOption('seed', args.seed, 0);
const runIgraph = !args['no-igraph'];
const stressEdges = wholeOption('stress-edges', args['stress-edges'], 0);

const gib = (bytes: number): string => (bytes / 2 ** 30).toFixed(2);
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;
/** Runs f, printing wall time and CPU time (user + sys: less sensitive to other load on the machine). */
function timed<T>(label: string, f: () => T): [T, number, number] {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const out = f();
  const s = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuS = (used.user + used.system) / 1e6;
  console.log(
    `${label.padEnd(10)} ${s.toFixed(2).padStart(8)} s wall ${cpuS.toFixed(2).padStart(8)} s cpu   ` +
      `peak RSS so far ${gib(peakRss())} GiB`,
  );
  return [out, s, cpuS];
}

console.log(
  `linkage bench: ${accounts} accounts, seed ${seed}, ${cpus().length} cores, ` +
    `${gib(totalmem())} GiB, node ${process.version}, ${new Date().toISOString()}, ` +
    `load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
);
let synthS = 0;
let buildS = 0;
let planted: Int8Array = new Int8Array(accounts).fill(-1);
let graph: LinkageGraph;
if (stressEdges > 0) {
  [graph, synthS] = timed('synthesize', () => plantedGraph(accounts, stressEdges, seed));
  console.log(`  stress graph: ${graph.source.length} edges, no build stage`);
} else {
  const [synthetic, s] = timed('synthesize', () => synthesize(accounts, seed));
  synthS = s;
  const { input } = synthetic;
  planted = synthetic.planted;
  console.log(
    `  ${input.linkAccount.length} links (${(input.linkAccount.length / accounts).toFixed(2)}/account), ${input.identifiers.length} identifiers`,
  );
  [graph, buildS] = timed('build', () => build(input));
  console.log('  build stats', JSON.stringify(graph.stats));
}

const [detection, detectS, detectCpuS] = timed('detect', () => detect(graph));
console.log('  detect stats', JSON.stringify(detection.stats));
console.log(
  `  modularity ${detection.modularity.toFixed(4)}, ${detection.communityCount} communities`,
);

// How well were the planted campaigns recovered?
for (let c = 0; c < (stressEdges > 0 ? 0 : 3); c++) {
  const counts = new Map<number, number>();
  let size = 0;
  for (let i = 0; i < accounts; i++) {
    if (planted[i] !== c) continue;
    size++;
    const k = detection.community[i] as number;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const ranked = [...counts.entries()].filter(([k]) => k >= 0).sort((a, b) => b[1] - a[1]);
  const covered = ranked.reduce((s, [, x]) => s + x, 0);
  const best = ranked[0];
  let communityTotal = 0;
  if (best)
    for (let i = 0; i < accounts; i++) if (detection.community[i] === best[0]) communityTotal++;
  console.log(
    `  campaign ${c}: ${size} accounts, ${covered} in communities (${ranked.length} communities), ` +
      `largest holds ${best?.[1] ?? 0} (purity ${best ? (best[1] / communityTotal).toFixed(3) : '-'})`,
  );
}
console.log(
  `TOTAL build+detect ${(buildS + detectS).toFixed(2)} s (synthesis ${synthS.toFixed(2)} s not counted), ` +
    `node peak RSS ${gib(peakRss())} GiB`,
);

if (runIgraph) {
  const dir = join(__dirname, '..', 'out');
  mkdirSync(dir, { recursive: true });
  const prefix = join(dir, `linkage-${accounts}`);
  writeFileSync(`${prefix}.src`, graph.source);
  writeFileSync(`${prefix}.dst`, graph.target);
  writeFileSync(`${prefix}.w`, graph.weight);
  const py = spawnSync(
    '/usr/bin/python3',
    [join(__dirname, 'igraph_ref.py'), prefix, String(accounts)],
    {
      encoding: 'utf8',
    },
  );
  if (py.status !== 0) console.log('igraph failed:', py.stderr);
  else {
    const r = JSON.parse(py.stdout) as Record<string, number>;
    const f = (x: number | undefined) => (x ?? NaN).toFixed(2);
    console.log(
      `igraph (same graph: ${r.nodes} nodes, ${r.edges} edges): load ${f(r.load_s)} s; ` +
        `multilevel ${f(r.multilevel_s)} s (cpu ${f(r.multilevel_cpu_s)}) Q=${(r.multilevel_modularity ?? NaN).toFixed(4)} (${r.multilevel_communities} comms); ` +
        `leiden ${f(r.leiden_s)} s (cpu ${f(r.leiden_cpu_s)}) Q=${(r.leiden_modularity ?? NaN).toFixed(4)} (${r.leiden_communities} comms); ` +
        `peak RSS ${((r.peak_rss_mib ?? 0) / 1024).toFixed(2)} GiB`,
    );
    console.log(
      `detect ${detectS.toFixed(2)} s (cpu ${detectCpuS.toFixed(2)}) vs igraph multilevel ` +
        `${f(r.multilevel_s)} s (cpu ${f(r.multilevel_cpu_s)}), leiden ${f(r.leiden_s)} s (cpu ${f(r.leiden_cpu_s)})`,
    );
  }
}
