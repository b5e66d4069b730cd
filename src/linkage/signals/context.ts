/**
 * The score stage's per-run precomputation: every account's links in CSR order, the
 * allow-list as flags, the median requests of accounts that sent any, which models are
 * new and who used them early, each template's requests from unclustered accounts, and
 * scratch arrays reused across clusters (one pass over links and accounts in all).
 */
import { allowedIdentifiers } from '../build';
import type { PromptTemplates } from '../lsh';
import type { ScoreOptions } from '../score-options';
import { eventCount, linkEvents, type LinkageInput } from '../types';
import { HOUR_MS } from './activity';
import { medianSorted } from './numbers';

/** Per-run precomputation shared by every cluster (one pass over links and accounts). */
export interface Context {
  input: LinkageInput;
  opts: ScoreOptions;
  /** CSR: links of account a are linkOrder[linkStart[a] .. linkStart[a+1]) */
  linkStart: Int32Array;
  linkOrder: Int32Array;
  allowed: Uint8Array;
  /** median requests over accounts with any requests, and how many those are */
  populationMedianRequests: number;
  populationActiveAccounts: number;
  newModels: { name: string; firstSeen: number }[];
  newModelEarly: Uint8Array[];
  /** whether a lower-cased e-mail domain is webmail (never a corporate domain) */
  isWebmail: (domain: string) => boolean;
  /**
   * template id per identifier (-1 for non-prompt identifiers), and per template the
   * requests (link events) of accounts that are in no community
   */
  promptTemplate: Int32Array;
  templateUnclustered: Float64Array;
  /** scratch arrays per template, reused across clusters */
  tpl: {
    requests: Float64Array;
    members: Int32Array;
    last: Int32Array;
    rep: Int32Array;
  };
  /** per-cluster numeric scratch, sized to the largest community */
  scratchA: Float64Array;
  scratchB: Float64Array;
  /** scratch arrays reused across clusters (reset through `touched`) */
  memberCount: Int32Array;
  lastMember: Int32Array;
}

export function buildContext(
  input: LinkageInput,
  community: Int32Array,
  largestCommunity: number,
  opts: ScoreOptions,
  templates: PromptTemplates,
): Context {
  const accountCount = input.accounts.length;
  const identifierCount = input.identifiers.length;
  const linkCount = input.linkAccount.length;

  const linkStart = new Int32Array(accountCount + 1);
  for (let l = 0; l < linkCount; l++) {
    const a = input.linkAccount[l]! + 1;
    linkStart[a] = linkStart[a]! + 1;
  }
  for (let a = 0; a < accountCount; a++) linkStart[a + 1] = linkStart[a + 1]! + linkStart[a]!;
  const fill = linkStart.slice(0, accountCount);
  const linkOrder = new Int32Array(linkCount);
  for (let l = 0; l < linkCount; l++) {
    const a = input.linkAccount[l]!;
    linkOrder[fill[a]!] = l;
    fill[a] = fill[a]! + 1;
  }

  const lastMember = new Int32Array(identifierCount).fill(-1);

  // the same flags build ignores values by: a template goes with its listed fingerprint
  const allowed = allowedIdentifiers(input, templates);

  const population = populationRequests(input);

  const promptTemplate = templates.ofIdentifier;
  const templateUnclustered = new Float64Array(templates.count);
  for (let l = 0; l < linkCount; l++) {
    const a = input.linkAccount[l]!;
    if ((community[a] ?? -1) >= 0) continue;
    const id = input.linkIdentifier[l]!;
    const t = promptTemplate[id]!;
    if (t >= 0 && !allowed[id]) {
      templateUnclustered[t] = templateUnclustered[t]! + linkEvents(input, l);
    }
  }
  const tc = templates.count;

  // "New" is relative to the first model use anywhere (when request data starts), not
  // to the earliest account activity: sign-ups recorded months before the request
  // log begins would otherwise make every model that existed all along look "new".
  // Both the log's start and each release are taken at the k-th account, so one event
  // with a wrong clock (dated 1970, say) moves neither.
  const releases = modelReleases(input, opts.releaseMinAccounts);
  let firstModelUse = Infinity;
  for (const m of releases) if (m.firstSeen < firstModelUse) firstModelUse = m.firstSeen;
  const newModels = releases.filter((m) => m.firstSeen >= firstModelUse + opts.newModelMinAgeMs);
  // per new model, the accounts that used it within the pivot window of its release
  const newModelEarly = newModels.map(() => new Uint8Array(accountCount));
  if (newModels.length > 0) {
    const indexOf = new Map(newModels.map((m, i) => [m.name, i]));
    input.accounts.forEach((account, a) => {
      for (const use of account.models) {
        const i = indexOf.get(use.name);
        if (i === undefined) continue;
        const model = newModels[i]!;
        if (use.firstUse < model.firstSeen + opts.pivotWindowHours * HOUR_MS) {
          newModelEarly[i]![a] = 1;
        }
      }
    });
  }

  return {
    input,
    opts,
    linkStart,
    linkOrder,
    allowed,
    populationMedianRequests: population.median,
    populationActiveAccounts: population.counted,
    newModels,
    newModelEarly,
    isWebmail: webmailMatcher(opts.webmailDomains, opts.webmailProviders),
    promptTemplate,
    templateUnclustered,
    tpl: {
      requests: new Float64Array(tc),
      members: new Int32Array(tc),
      last: new Int32Array(tc).fill(-1),
      rep: new Int32Array(tc).fill(-1),
    },
    scratchA: new Float64Array(largestCommunity),
    scratchB: new Float64Array(largestCommunity),
    memberCount: new Int32Array(identifierCount),
    lastMember,
  };
}

/**
 * Median requests over the accounts that sent any. Accounts with none (a sign-up that
 * never sent a request) are left out: once half the population is dormant the median
 * would be 0, and every cluster would read as high volume.
 */
function populationRequests(input: LinkageInput): { median: number; counted: number } {
  const requests = new Float64Array(input.accounts.length);
  let counted = 0;
  for (const a of input.accounts) {
    const r = eventCount(a.requests);
    if (r > 0) requests[counted++] = r;
  }
  return { median: medianSorted(requests.subarray(0, counted).sort()), counted };
}

/**
 * Per model, the time its k-th account first used it (models fewer than k accounts used
 * are left out), in input.models' order: one bounded sorted list of first uses per model.
 */
export function modelReleases(
  input: LinkageInput,
  k: number,
): { name: string; firstSeen: number }[] {
  k = Math.max(1, k);
  const earliest = new Map<string, number[]>(input.models.map((name) => [name, []]));
  for (const account of input.accounts) {
    for (const use of account.models) {
      let list = earliest.get(use.name);
      if (list === undefined) earliest.set(use.name, (list = []));
      const t = use.firstUse;
      // A time that is no number fails every comparison and would land by arrival order
      // (review, 12-05): not a use at all.
      if (!Number.isFinite(t)) continue;
      if (list.length === k && t >= list[k - 1]!) continue;
      let i = list.length === k ? k - 1 : list.length;
      while (i > 0 && list[i - 1]! > t) {
        list[i] = list[i - 1]!;
        i--;
      }
      list[i] = t;
    }
  }
  const out: { name: string; firstSeen: number }[] = [];
  for (const [name, list] of earliest) {
    if (list.length >= k) out.push({ name, firstSeen: list[k - 1]! });
  }
  return out;
}

/** second-level labels under which a country code still names the provider's own domain */
const COUNTRY_SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'ne', 'or']);

/**
 * Listed domains, and a provider's name under any country suffix (`hotmail.co.uk`,
 * `yahoo.com.br`, `gmx.net`), since a ring signing up on one of those is no company.
 * Only the name as the registered label counts: `mail.acme.com` is Acme's.
 */
export function webmailMatcher(
  domains: readonly string[],
  providers: readonly string[],
): (domain: string) => boolean {
  const listed = new Set(domains.map((d) => d.toLowerCase()));
  const names = new Set(providers.map((p) => p.toLowerCase()));
  return (domain) => {
    if (listed.has(domain)) return true;
    const labels = domain.split('.');
    if (!names.has(labels[0] as string)) return false;
    if (labels.length === 2) return true;
    return (
      labels.length === 3 &&
      COUNTRY_SECOND_LEVEL.has(labels[1] as string) &&
      (labels[2] as string).length === 2
    );
  };
}
