/**
 * build does not depend on the order of its input: the same (account, kind, value,
 * count) facts and the same seed give the same graph, and so the same communities,
 * however extract happened to list identifiers and each account's links (Neo4j
 * returns an account's relationships in no promised order, and a re-import or a
 * restored backup changes it). Hub centres and co-use subnet bits are where value
 * ids used to leak into the result.
 */
import { build } from '../../../src/linkage/build';
import { detect } from '../../../src/linkage/detect';
import { IdentifierTable } from '../../../src/linkage/identifier-table';
import type { Identifier, LinkageGraph, LinkageInput } from '../../../src/linkage/types';
import { DEFAULTS } from '../../../src/linkage/weights';
import { type LinkRow, linksInput, randomHex, rng, variant } from './fixtures';

const N = 1500;

/**
 * A seeded population: card hubs (more members than maxExpandDegree) all holding
 * account 0, a device hub, small shared devices, IPs and subnets, near-duplicate
 * prompt templates (one fingerprint in upper case too), email domains in mixed case,
 * and co-use cells (a template sent heavily over several proxy subnets), one of whose
 * accounts' subnets tie on traffic beyond coUseMaxPerKind.
 */
function population(): LinkRow[] {
  const r = rng(2024);
  const pick = () => Math.floor(r() * N);
  const links: LinkRow[] = [];
  for (let h = 0; h < 10; h++) {
    const d = DEFAULTS.build.maxExpandDegree + 20 + Math.floor(r() * 150);
    links.push([0, 'payment', `hub-card-${h}`]);
    for (let k = 0; k < d; k++) links.push([1 + pick(), 'payment', `hub-card-${h}`]);
  }
  for (let k = 0; k < 180; k++) links.push([pick(), 'device', 'hub-device']);
  for (let i = 0; i < 2500; i++) {
    const v = Math.floor(r() * 500);
    links.push([pick(), 'device', `dev-${v}`]);
    const ip = `10.0.${v % 200}.${v % 7}`;
    const c = 1 + Math.floor(r() * 20);
    const a = pick();
    links.push([a, 'ip', ip, c], [a, 'subnet', `10.0.${v % 200}.0/24`, c]);
  }
  for (let t = 0; t < 30; t++) {
    const base = randomHex(r);
    for (let k = 0; k < 12; k++) links.push([pick(), 'prompt', variant(base, 1, r), 3]);
    links.push([pick(), 'prompt', base.toUpperCase(), 2], [pick(), 'prompt', base, 2]);
  }
  for (let i = 0; i < 300; i++) {
    const dom = `corp-${i % 60}.example`;
    links.push([pick(), 'email_domain', i % 3 === 0 ? dom.toUpperCase() : dom]);
  }
  for (let cell = 0; cell < 8; cell++) {
    const template = randomHex(r);
    const subnets = 4 + (cell % 3) + (cell === 7 ? 6 : 0); // cell 7: 13 tied subnets
    for (let m = 0; m < 9; m++) {
      const a = 200 + cell * 20 + m;
      links.push([a, 'prompt', template, 100]);
      for (let s = 0; s < subnets; s++) {
        const ip = `198.${18 + cell}.${s}.${m + 1}`;
        links.push([a, 'ip', ip, 20], [a, 'subnet', `198.${18 + cell}.${s}.0/24`, 20]);
      }
    }
  }
  return links;
}

/** Accounts in index order (as extract reads them), links within each in `links` order. */
function byAccount(links: LinkRow[]): LinkageInput {
  return linksInput(
    N,
    [...links].sort((x, y) => x[0] - y[0]),
  );
}

/** The same facts: identifiers listed in another order, each account's links shuffled. */
function reordered(input: LinkageInput, seed: number): LinkageInput {
  const r = rng(seed);
  const shuffle = <T>(xs: T[]): T[] => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
    }
    return xs;
  };
  const ids = input.identifiers.toArray();
  const order = shuffle(ids.map((_, i) => i));
  const newIndex = new Int32Array(order.length);
  order.forEach((old, i) => (newIndex[old] = i));
  const perAccount: number[][] = input.accounts.map(() => []);
  input.linkAccount.forEach((a, l) => perAccount[a]?.push(l));
  const links = perAccount.flatMap((ls) => shuffle(ls));
  return {
    ...input,
    identifiers: IdentifierTable.of(order.map((old) => ids[old] as Identifier)),
    linkAccount: Int32Array.from(links, (l) => input.linkAccount[l] as number),
    linkIdentifier: Int32Array.from(
      links,
      (l) => newIndex[input.linkIdentifier[l] as number] as number,
    ),
    linkCount: Float64Array.from(links, (l) => input.linkCount[l] as number),
  };
}

function edges(g: LinkageGraph) {
  return {
    source: Array.from(g.source),
    target: Array.from(g.target),
    weight: Array.from(g.weight),
  };
}

/** The centre of the star over accounts [from, from + d): the member on d − 1 edges. */
function centre(g: LinkageGraph, from: number, d: number): number {
  const degree = new Map<number, number>();
  for (const x of [...g.source, ...g.target]) degree.set(x, (degree.get(x) ?? 0) + 1);
  const found = Array.from({ length: d }, (_, i) => from + i).filter(
    (a) => degree.get(a) === d - 1,
  );
  expect(found).toHaveLength(1);
  return found[0] as number;
}

describe('build: independent of input order', () => {
  const links = population();
  const first = byAccount(links);

  it('gives the same edges and communities when identifiers and links come in another order', () => {
    const g = build(first, { seed: 7 });
    expect(g.stats.hubValuesCapped).toBeGreaterThanOrEqual(11);
    expect(g.stats.coUsePairs).toBeGreaterThan(0);
    const d = detect(g, { seed: 7 });
    for (const seed of [1, 2, 3]) {
      const other = build(reordered(first, seed), { seed: 7 });
      expect(other.stats.hubValuesCapped).toBe(g.stats.hubValuesCapped);
      expect(other.stats.coUsePairs).toBe(g.stats.coUsePairs);
      expect(edges(other)).toEqual(edges(g));
      const od = detect(other, { seed: 7 });
      expect(od.communityCount).toBe(d.communityCount);
      expect(Array.from(od.community)).toEqual(Array.from(d.community));
    }
  });

  it("keeps each hub's centre when another hub appears or disappears", () => {
    const sizes = [150, 170, 130, 160, 140];
    const starts = sizes.map((_, h) => sizes.slice(0, h).reduce((s, d) => s + d, 0));
    const n = sizes.reduce((s, d) => s + d, 0);
    const hubs = (skip: number): LinkRow[] =>
      sizes.flatMap((d, h) =>
        h === skip
          ? []
          : Array.from({ length: d }, (_, i): LinkRow => [starts[h]! + i, 'device', `farm-${h}`]),
      );
    const all = build(linksInput(n, hubs(-1)));
    const without0 = build(linksInput(n, hubs(0)));
    expect(all.stats.hubValuesCapped).toBe(5);
    expect(without0.stats.hubValuesCapped).toBe(4);
    for (let h = 1; h < sizes.length; h++)
      expect(centre(without0, starts[h]!, sizes[h]!)).toBe(centre(all, starts[h]!, sizes[h]!));
  });
});
