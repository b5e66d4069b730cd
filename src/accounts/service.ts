/**
 * An account as an analyst sees it: what it shares with whom (identifiers with
 * counts, first/last seen and how many accounts hold each value), its activity,
 * and its cluster in the current run.
 */
import type { Context } from '../context';
import { ClusterService } from '../clusters/service';
import { agedInRun, runAges } from '../linkage/link-age';
import { AppError } from '../platform/errors';
import { int } from '../platform/neo4j';

const MAX_IDENTIFIERS = 500;

export class AccountService {
  private readonly clusters: ClusterService;

  constructor(ctx: Context) {
    this.clusters = new ClusterService(ctx);
  }

  membership(accountId: string) {
    return this.clusters.membership(accountId);
  }

  async profile(accountId: string) {
    // First: its run's recorded ages mark the links that run left out, read from the
    // run's bookmarks (a replica behind its swap has the run without its stats).
    const membership = await this.clusters.membership(accountId);
    const [row] = await this.clusters.readRows('accounts/read-account', {
      accountId,
      maxIdentifiers: int(MAX_IDENTIFIERS),
      runId: membership.runId,
    });
    if (!row) throw new AppError('not_found', `no account "${accountId}"`);
    const account = row.account as Record<string, unknown>;
    const identifiers = row.identifiers as Record<string, unknown>[];
    const identifierCount = countOf(row.identifierCount, identifiers);
    // Events may name any model or capability: the lists are capped like identifiers.
    const models = row.models as {
      model: string;
      count: number;
      firstUse: number;
      lastUse: number;
    }[];
    const modelCount = countOf(row.modelCount, models);
    const capabilities = row.capabilities as { capability: string; count: number }[];
    const capabilityCount = countOf(row.capabilityCount, capabilities);
    const ages = runAges(row.run);
    return {
      account: {
        id: String(account.id),
        firstSeen: (account.firstSeen as number) ?? null,
        lastSeen: (account.lastSeen as number) ?? null,
        signupAt: (account.signupAt as number) ?? null,
        requests: (account.requests as number) ?? null,
        emailDomain: (account.emailDomain as string) ?? null,
        org: (account.org as string) ?? null,
      },
      identifiers: identifiers.map((x) => ({
        kind: String(x.kind),
        value: String(x.value),
        subnet: (x.subnet as string) ?? null,
        count: Number(x.count ?? 0),
        firstSeen: (x.firstSeen as number) ?? null,
        lastSeen: (x.lastSeen as number) ?? null,
        accounts: Number(x.accounts ?? 0),
        aged: agedInRun(ages, String(x.kind), x.lastSeen),
      })),
      identifierCount,
      identifiersCapped: capped(identifierCount, identifiers),
      activity: {
        models,
        modelCount,
        modelsCapped: capped(modelCount, models),
        capabilities,
        capabilityCount,
        capabilitiesCapped: capped(capabilityCount, capabilities),
      },
      membership,
    };
  }
}

/*
 * Each list and its count are read by separate subqueries, which may see a link committed
 * between them (read committed): a count below its list, or above a list that was not cut.
 * A list shorter than the cap holds everything it saw (review, 12-06).
 */
function countOf(count: unknown, list: readonly unknown[]): number {
  return Math.max(Number(count ?? 0), list.length);
}

function capped(count: number, list: readonly unknown[]): boolean {
  return list.length >= MAX_IDENTIFIERS && count > list.length;
}
