/**
 * build's cost with one heavy account: a scraper rotating over M proxy IPs, each also
 * used by strangers (half the IPs by 9, rare enough to propose pairs; half by 19,
 * common, so they go on the scraper's list of values that only corroborate). The
 * reference, built in the same run, has the same links with each IP's first user drawn
 * at random instead of being the scraper: same links, same kind of values, no heavy
 * account. Near-linear cost means the two stay close as M doubles.
 *
 *   npx tsx bench/linkage/heavy-account.ts [--ips 10000,20000,40000,80000] [--rounds 3]
 */
import { build } from '../../src/linkage/build';
import { IdentifierTable } from '../../src/linkage/identifier-table';
import { createRng } from '../../src/linkage/rng';
import type { Identifier, LinkageInput } from '../../src/linkage/types';
import { benchArgs, wholeOption } from '../options';
import { bareAccount } from './synthetic';

const args = benchArgs(__filename, {
  ips: { type: 'string', default: '10000,20000,40000,80000' },
  rounds: { type: 'string', default: '3' },
});
const ACCOUNTS = 500_000;

function population(ips: number, heavy: boolean): LinkageInput {
  const r = createRng(9);
  const linkAccount: number[] = [];
  const linkIdentifier: number[] = [];
  const linkCount: number[] = [];
  const identifiers: Identifier[] = [];
  const stranger = (): number => 1 + Math.floor(r() * (ACCOUNTS - 1));
  for (let m = 0; m < ips; m++) {
    identifiers.push({ kind: 'ip', value: `198.18.${(m >>> 8) & 255}.${m & 255}:${m}` });
    const first = heavy ? 0 : stranger();
    linkAccount.push(first);
    linkIdentifier.push(m);
    linkCount.push(3);
    for (let k = m % 2 === 0 ? 9 : 19; k > 0; k--) {
      linkAccount.push(stranger());
      linkIdentifier.push(m);
      linkCount.push(1);
    }
  }
  return {
    accounts: Array.from({ length: ACCOUNTS }, (_, i) => bareAccount(i)),
    identifiers: IdentifierTable.of(identifiers),
    linkAccount: Int32Array.from(linkAccount),
    linkIdentifier: Int32Array.from(linkIdentifier),
    linkCount: Float64Array.from(linkCount),
    models: [],
    allowlist: [],
    previousClusters: [],
    previousRunId: null,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

const sizes = args.ips.split(',').map((text) => wholeOption('ips', text));
const rounds = wholeOption('rounds', args.rounds);
console.log(`heavy-account bench: ${ACCOUNTS} accounts, median of ${rounds} rounds (ms)`);
console.log('ips     links     corroborate heavy / reference   build heavy / reference');
for (const ips of sizes) {
  const inputs = { heavy: population(ips, true), reference: population(ips, false) };
  const times = { heavy: [] as number[][], reference: [] as number[][] };
  for (let r = 0; r < rounds; r++) {
    for (const name of ['heavy', 'reference'] as const) {
      const started = performance.now();
      const g = build(inputs[name]);
      times[name].push([g.stats.corroborateMs as number, performance.now() - started]);
    }
  }
  const corr = (name: 'heavy' | 'reference') => median(times[name].map((t) => t[0] as number));
  const whole = (name: 'heavy' | 'reference') => median(times[name].map((t) => t[1] as number));
  console.log(
    `${String(ips).padEnd(7)} ${String(inputs.heavy.linkAccount.length).padEnd(9)} ` +
      `${corr('heavy').toFixed(0).padStart(8)} / ${corr('reference').toFixed(0).padEnd(8)}` +
      ` (${(corr('heavy') / Math.max(1, corr('reference'))).toFixed(2)}×)   ` +
      `${whole('heavy').toFixed(0).padStart(6)} / ${whole('reference').toFixed(0)}` +
      ` (${(whole('heavy') / whole('reference')).toFixed(2)}×)`,
  );
}
