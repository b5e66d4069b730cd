/** Account facts as plain objects, for tests comparing extract's views with toEqual. */
import type { AccountFacts } from '../../src/linkage/types';

/** A plain-object copy of one account's facts (views compare as such). */
export function plainFacts(a: AccountFacts): AccountFacts {
  return {
    id: a.id,
    signupAt: a.signupAt,
    firstSeen: a.firstSeen,
    lastSeen: a.lastSeen,
    requests: a.requests,
    hours: a.hours,
    emailDomain: a.emailDomain,
    org: a.org,
    models: a.models.map((m) => ({
      name: m.name,
      count: m.count,
      firstUse: m.firstUse,
      hours: m.hours,
    })),
    capabilities: a.capabilities,
  };
}
