/**
 * The one table of linkage knobs: how much each kind of shared value says, how
 * rarity discounts it, how hubs are handled, how evidence of several kinds
 * combines, and how communities are detected. `resolveBuildOptions` /
 * `resolveDetectOptions` merge an override once; from config, LINKAGE_WEIGHTS
 * (settings.ts) overrides the weights and LINKAGE_PROMPT_MAX_HAMMING maxHamming.
 *
 * Evidence of one shared value v of kind k, shared by d distinct accounts:
 *   w(v) = kindWeight[k] / ln(d + 5)                  (FRAUDAR's column weight)
 * and, for a pair (a, b), w(v) × min(tf(a, v), tf(b, v)), where for traffic kinds
 * tf = min(1, the account's share of its events of that kind on v / fullShare)
 * (a prompt that is 1 request in 2,000 says little; one that carries a third of
 * the traffic says a lot), 1 for other kinds. Values with w(v) < minProposeWeight
 * are *common*; the others *specific*.
 * An account pair sums evidence per kind (capped at kindCap × kindWeight so many
 * weak values cannot pile up), then:
 *   - a family counts as corroborating when its sum is > 0 and ≥ corroborationMin
 *     (ip and subnet are one "network" family: sharing an IP implies the subnet);
 *   - weight = Σ kinds × (1 + corroborationBonus × (families − 1))  (super-additive);
 *   - a pair whose *specific* evidence has no strong kind, fewer than two
 *     corroborating families and a weak sum below weakOnlyMin (default: none is
 *     enough) is dropped (camouflage rule: proxy IPs and popular prompts, however
 *     many, never bind an account to a ring; common values only add weight to pairs
 *     that exist).
 * SIGNALS.md ("The linkage graph") gives the reasons and the bench figures.
 */
import type { IdentifierKind } from './types';

export interface BuildOptions {
  /** Evidence of one shared value at rarity 1, per kind. */
  kindWeight: Record<IdentifierKind, number>;
  /**
   * Kinds whose link counts are traffic (requests over an IP, on a prompt): a shared
   * value counts in proportion to the share of each account's traffic of that kind it
   * carries (the smaller of the two), full from `fullShare` up.
   */
  trafficKinds: readonly IdentifierKind[];
  fullShare: number;
  /** Kinds whose evidence alone (one family) cannot bind a pair. */
  weakKinds: readonly IdentifierKind[];
  /** Kinds grouped into families for counting corroboration. */
  family: Record<IdentifierKind, string>;
  /** A pair's evidence of one kind saturates at kindCap × kindWeight[kind]. */
  kindCap: number;
  /** A family's summed evidence must reach this (and be > 0) to count as corroboration. */
  corroborationMin: number;
  /** Multiplier per extra corroborating family. */
  corroborationBonus: number;
  /**
   * Weak-only, uncorroborated pairs below this are dropped. Infinity (the default): one
   * weak family alone never binds. At 0.25 (until 12-05) three rare proxy exits a ring
   * rotated over bound a customer who used them too into the ring (review).
   */
  weakOnlyMin: number;
  /**
   * A value proposes account pairs only when its own evidence w(v) reaches this;
   * weaker values (subnets, webmail domains, carrier IPs) only add evidence to
   * pairs proposed by something else. Keep ≤ corroborationMin.
   */
  minProposeWeight: number;
  /**
   * Co-use (co-use.ts): a (template, /24 or /48 subnet) pair both accounts use heavily
   * adds coUseWeight / ln(d + 5); a pair's sum is evidence of the prompt kind and of the
   * subnet kind at once, when it came through coUseMinSubnets distinct subnets.
   */
  coUseWeight: number;
  /** Requests an account must send on a template (or from a subnet) for it to count. */
  coUseMinEvents: number;
  /** ...and the share of its prompt traffic on the template... */
  coUseMinShare: number;
  /**
   * ...and of its traffic from the subnet: a cell rotates over a few dozen to a hundred or
   * more proxies, each maybe in a /24 of its own (0.02 until 12-07 missed those: SIGNALS.md).
   */
  coUseMinSubnetShare: number;
  /**
   * Templates and subnets per account that take part: its busiest templates, and of its
   * subnets the first by a hash of the value (co-use.ts, heavyValues).
   */
  coUseMaxPerKind: number;
  /**
   * Co-use counts for a pair only over this many distinct subnets: a cell rotates over
   * proxies in many /24s; an office, a campus NAT or a CI egress sits in one to three.
   */
  coUseMinSubnets: number;
  /**
   * Co-use values shared by up to this many accounts are expanded into all pairs (a
   * cell of up to ~150 must get its pairs whole, so that the evidence of its many
   * subnets adds up on them); above it, the pairs within buckets of a quarter to a half
   * as many (build.ts, forPairsInBuckets), each with its whole co-use evidence.
   */
  coUseMaxExpandDegree: number;
  /**
   * Co-activity (co-activity.ts): two accounts on ≥ coUseMinSubnets of the same co-use
   * subnets whose active hours (≥ coActivityMinHours each) have a Jaccard index ≥
   * coActivityMinJaccard get coActivityWeight as subnet evidence and as activity, a
   * family of its own (capped at kindCap × coActivityWeight). Candidates come from
   * coActivityBands MinHash bands of two (0 turns co-activity off).
   */
  coActivityWeight: number;
  coActivityBands: number;
  coActivityMinHours: number;
  coActivityMinJaccard: number;
  /**
   * Co-activity also holds for two accounts on ≥ coSignupMinSubnets of the same co-use
   * subnets (of at most coUseMaxPerKind sampled) that signed up within
   * coSignupWindowHours of each other (0 turns it off): a cell's light members join few
   * of its waves, but they sign up in one batch over the same proxies (SIGNALS.md).
   */
  coSignupWindowHours: number;
  coSignupMinSubnets: number;
  /** Values shared by more accounts are not expanded into all pairs, but linked as a star. */
  maxExpandDegree: number;
  /** Near-duplicate prompts: Hamming distance ≤ this is the same template. */
  maxHamming: number;
  seed: number;
}

export interface DetectOptions {
  /** Communities (and components) smaller than this are not clusters (-1); an integer ≥ 2. */
  minClusterSize: number;
  /** Modularity resolution γ, over the whole graph. */
  resolution: number;
  seed: number;
  /**
   * What Louvain reads: 'view' (default) a read-only graphology-compatible view
   * over typed arrays; 'graphology' a real UndirectedGraph (same communities,
   * ~5× slower to set up at millions of edges; kept as the reference).
   */
  louvainGraph: 'view' | 'graphology';
}

export const DEFAULTS: { build: BuildOptions; detect: DetectOptions } = {
  build: {
    kindWeight: {
      payment: 1.0, // a card fingerprint is hard to share by accident
      device: 0.9,
      org: 0.5, // declared by the customer: moderate
      email_domain: 0.4, // moderate for a rare domain; webmail dies by rarity
      prompt: 0.35, // near-duplicate template: medium, popular prompts are common
      ip: 0.3, // NATs, proxies and VPN exits carry strangers
      subnet: 0.15, // weaker still: a /24 is a neighbourhood
    },
    trafficKinds: ['ip', 'subnet', 'prompt'],
    fullShare: 0.1,
    weakKinds: ['ip', 'subnet', 'prompt', 'email_domain'],
    family: {
      payment: 'payment',
      device: 'device',
      org: 'org',
      email_domain: 'email_domain',
      prompt: 'prompt',
      ip: 'network',
      subnet: 'network',
    },
    kindCap: 1,
    corroborationMin: 0.1,
    corroborationBonus: 0.5,
    weakOnlyMin: Infinity,
    minProposeWeight: 0.1,
    coUseWeight: 0.25,
    coUseMinEvents: 5,
    coUseMinShare: 0.1,
    coUseMinSubnetShare: 0.005,
    coUseMaxPerKind: 8,
    coUseMinSubnets: 4,
    coUseMaxExpandDegree: 200,
    coActivityWeight: 0.25,
    coActivityBands: 8,
    coActivityMinHours: 6,
    coActivityMinJaccard: 0.3,
    coSignupWindowHours: 6,
    coSignupMinSubnets: 6,
    maxExpandDegree: 100,
    maxHamming: 3,
    seed: 42,
  },
  detect: {
    minClusterSize: 3,
    resolution: 1,
    seed: 42,
    louvainGraph: 'view',
  },
};

export function resolveBuildOptions(options: Partial<BuildOptions> = {}): BuildOptions {
  return {
    ...DEFAULTS.build,
    ...options,
    kindWeight: { ...DEFAULTS.build.kindWeight, ...options.kindWeight },
    family: { ...DEFAULTS.build.family, ...options.family },
  };
}

export function resolveDetectOptions(options: Partial<DetectOptions> = {}): DetectOptions {
  return { ...DEFAULTS.detect, ...options };
}
