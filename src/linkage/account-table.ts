/**
 * The accounts extract reads, stored column by column: typed arrays for the numbers,
 * the hour series, the model uses and the capabilities, and one small view object per
 * account that reads them as AccountFacts.
 *
 * Why: as plain objects an account took about 25 heap objects (hour arrays, model
 * uses with their own hour arrays, capabilities, boxed epoch times): ~1.1 GiB at 1M
 * accounts, alive through the whole run and marked again by every full GC in build,
 * detect and score. Typed arrays are not walked by the GC.
 *
 * A view decodes `hours`, `models` and `capabilities` on each read, into new arrays:
 * read each once per use, and do not write to them (the columns are not changed).
 */
import { Growable } from './growable';
import type { AccountFacts, HourSeries, ModelUse } from './types';

/**
 * One account as extract reads it. Hour keys and counts are parallel lists in any
 * order; models and capabilities in any order (the table sorts them).
 */
export interface AccountRow {
  id: string;
  signupAt: number | null;
  firstSeen: number;
  lastSeen: number;
  requests: number;
  emailDomain: string | null;
  org: string | null;
  hourKeys: number[];
  hourCounts: number[];
  models: {
    name: string;
    count: number;
    firstUse: number;
    hourKeys: number[];
    hourCounts: number[];
  }[];
  capabilities: { name: string; count: number }[];
}

/**
 * Model uses and capabilities of account a are modelStart[a] .. modelStart[a + 1]
 * and capabilityStart[a] .. capabilityStart[a + 1]. Hour series are appended in
 * order, an account's and then each of its model uses', so account a's is series
 * a + modelStart[a] and model use u (of account a) is series a + 1 + u; series s is
 * entries seriesStart[s] .. seriesStart[s + 1] of hourKey/hourCount. Names index `names`.
 */
interface Columns {
  ids: string[];
  emailDomain: (string | null)[];
  org: (string | null)[];
  signupAt: Float64Array; // NaN: unknown
  firstSeen: Float64Array;
  lastSeen: Float64Array;
  requests: Float64Array;
  seriesStart: Int32Array;
  hourKey: Float64Array;
  hourCount: Float64Array;
  modelStart: Int32Array;
  modelName: Int32Array;
  modelCount: Float64Array;
  modelFirstUse: Float64Array;
  capabilityStart: Int32Array;
  capabilityName: Int32Array;
  capabilityCount: Float64Array;
  names: string[];
}

const byName = <T extends { name: string }>(x: T, y: T): number =>
  x.name < y.name ? -1 : x.name > y.name ? 1 : 0;

export class AccountTableBuilder {
  private readonly ids: string[] = [];
  private readonly emailDomain: (string | null)[] = [];
  private readonly org: (string | null)[] = [];
  private readonly signupAt = Growable.float64();
  private readonly firstSeen = Growable.float64();
  private readonly lastSeen = Growable.float64();
  private readonly requests = Growable.float64();
  private readonly seriesStart = Growable.int32();
  private readonly hourKey = Growable.float64();
  private readonly hourCount = Growable.float64();
  private readonly modelStart = Growable.int32();
  private readonly modelName = Growable.int32();
  private readonly modelCount = Growable.float64();
  private readonly modelFirstUse = Growable.float64();
  private readonly capabilityStart = Growable.int32();
  private readonly capabilityName = Growable.int32();
  private readonly capabilityCount = Growable.float64();
  // One string per distinct model, capability, domain and org name, not one per account.
  private readonly names: string[] = [];
  private readonly nameIndex = new Map<string, number>();

  constructor() {
    this.seriesStart.push(0);
    this.modelStart.push(0);
    this.capabilityStart.push(0);
  }

  get length(): number {
    return this.ids.length;
  }

  add(row: AccountRow): void {
    this.ids.push(row.id);
    this.emailDomain.push(row.emailDomain === null ? null : this.name(row.emailDomain));
    this.org.push(row.org === null ? null : this.name(row.org));
    this.signupAt.push(row.signupAt ?? NaN);
    this.firstSeen.push(row.firstSeen);
    this.lastSeen.push(row.lastSeen);
    this.requests.push(row.requests);
    this.series(row.hourKeys, row.hourCounts);
    for (const m of [...row.models].sort(byName)) {
      this.modelName.push(this.nameId(m.name));
      this.modelCount.push(m.count);
      this.modelFirstUse.push(m.firstUse);
      this.series(m.hourKeys, m.hourCounts);
    }
    this.modelStart.push(this.modelName.length);
    for (const c of [...row.capabilities].sort(byName)) {
      this.capabilityName.push(this.nameId(c.name));
      this.capabilityCount.push(c.count);
    }
    this.capabilityStart.push(this.capabilityName.length);
  }

  /** The accounts in the order added, as views over the finished columns (call once, last). */
  finish(): AccountFacts[] {
    const c: Columns = {
      ids: this.ids,
      emailDomain: this.emailDomain,
      org: this.org,
      signupAt: this.signupAt.done(),
      firstSeen: this.firstSeen.done(),
      lastSeen: this.lastSeen.done(),
      requests: this.requests.done(),
      seriesStart: this.seriesStart.done(),
      hourKey: this.hourKey.done(),
      hourCount: this.hourCount.done(),
      modelStart: this.modelStart.done(),
      modelName: this.modelName.done(),
      modelCount: this.modelCount.done(),
      modelFirstUse: this.modelFirstUse.done(),
      capabilityStart: this.capabilityStart.done(),
      capabilityName: this.capabilityName.done(),
      capabilityCount: this.capabilityCount.done(),
      names: this.names,
    };
    const accounts: AccountFacts[] = new Array<AccountFacts>(c.ids.length);
    for (let i = 0; i < c.ids.length; i++) accounts[i] = new AccountView(c, i);
    return accounts;
  }

  private nameId(s: string): number {
    let id = this.nameIndex.get(s);
    if (id === undefined) {
      id = this.names.length;
      this.nameIndex.set(s, id);
      this.names.push(s);
    }
    return id;
  }

  private name(s: string): string {
    return this.names[this.nameId(s)] as string;
  }

  /** Appends one series, ascending by key (stable for equal keys). */
  private series(keys: number[], counts: number[]): void {
    let sorted = true;
    for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1]! <= keys[i]!;
    const order = sorted ? keys.keys() : keys.map((_, i) => i).sort((x, y) => keys[x]! - keys[y]!);
    for (const i of order) {
      this.hourKey.push(keys[i]!);
      this.hourCount.push(counts[i] ?? 0);
    }
    this.seriesStart.push(this.hourKey.length);
  }
}

function decodeSeries(c: Columns, s: number): HourSeries {
  const from = c.seriesStart[s]!;
  const to = c.seriesStart[s + 1]!;
  const keys = new Array<number>(to - from);
  const counts = new Array<number>(to - from);
  for (let e = from; e < to; e++) {
    keys[e - from] = c.hourKey[e]!;
    counts[e - from] = c.hourCount[e]!;
  }
  return { keys, counts };
}

class ModelUseView implements ModelUse {
  constructor(
    private readonly c: Columns,
    private readonly a: number,
    private readonly u: number,
  ) {}

  get name(): string {
    return this.c.names[this.c.modelName[this.u]!]!;
  }
  get count(): number {
    return this.c.modelCount[this.u]!;
  }
  get firstUse(): number {
    return this.c.modelFirstUse[this.u]!;
  }
  get hours(): HourSeries {
    return decodeSeries(this.c, this.a + 1 + this.u);
  }
}

class AccountView implements AccountFacts {
  constructor(
    private readonly c: Columns,
    private readonly i: number,
  ) {}

  get id(): string {
    return this.c.ids[this.i]!;
  }
  get signupAt(): number | null {
    const t = this.c.signupAt[this.i]!;
    return Number.isNaN(t) ? null : t;
  }
  get firstSeen(): number {
    return this.c.firstSeen[this.i]!;
  }
  get lastSeen(): number {
    return this.c.lastSeen[this.i]!;
  }
  get requests(): number {
    return this.c.requests[this.i]!;
  }
  get emailDomain(): string | null {
    return this.c.emailDomain[this.i]!;
  }
  get org(): string | null {
    return this.c.org[this.i]!;
  }
  get hours(): HourSeries {
    return decodeSeries(this.c, this.i + this.c.modelStart[this.i]!);
  }
  get models(): ModelUse[] {
    const out: ModelUse[] = [];
    for (let u = this.c.modelStart[this.i]!; u < this.c.modelStart[this.i + 1]!; u++)
      out.push(new ModelUseView(this.c, this.i, u));
    return out;
  }
  get capabilities(): { name: string; count: number }[] {
    const out: { name: string; count: number }[] = [];
    for (let k = this.c.capabilityStart[this.i]!; k < this.c.capabilityStart[this.i + 1]!; k++)
      out.push({
        name: this.c.names[this.c.capabilityName[k]!]!,
        count: this.c.capabilityCount[k]!,
      });
    return out;
  }
}
