/**
 * Reads the pages of `coterie.linkageAccountsPage`, the launcher's procedure that packs
 * what linkage/read-accounts-page returns into bytes (layout and why:
 * neo4j-local/src/main/java/dev/coterie/neo4jlocal/LinkageExtract.java; the two change
 * together, FORMAT). Decoding it costs a fraction of Bolt's nested lists.
 */
import type { AccountRow } from './account-table';

/** The layout this reader knows; a procedure that answers another is not used. */
export const PACKED_FORMAT = 4;

/** Link kinds in the order a page carries them; `ip` links also carry their subnet. */
export const PACKED_KINDS = ['payment', 'device', 'ip', 'prompt', 'email_domain', 'org'] as const;
export type PackedKind = (typeof PACKED_KINDS)[number];

/** What a page's accounts are handed to, one account at a time, links before facts. */
export interface PageSink {
  /** index the next account will get (links name it) */
  nextAccount(): number;
  link(account: number, kind: PackedKind, value: string | null, count: number | null): void;
  /** ip links' subnets, summed per account: `link` them after the account's ips */
  subnet(subnet: string | null, count: number | null): void;
  endIps(account: number): void;
  account(row: AccountRow): void;
}

export class PackedPageReader {
  private readonly view: DataView;
  private at = 0;

  private readonly bytes: Buffer;

  /**
   * `page` as the procedure returns it: its chunks, each base64 (the driver decodes strings
   * natively), joined here. Chunks keep Neo4j's heap free of one large array per page.
   */
  constructor(page: readonly string[]) {
    const chunks = page.map((chunk) => Buffer.from(chunk, 'base64'));
    this.bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** LEB128; values stay below 2^53, so multiply rather than shift. */
  private varint(): number {
    let b = this.bytes[this.at++] as number;
    if (b < 0x80) return b;
    let value = b & 0x7f;
    let scale = 0x80;
    do {
      b = this.bytes[this.at++] as number;
      value += (b & 0x7f) * scale;
      scale *= 0x80;
    } while (b >= 0x80);
    return value;
  }

  private f64(): number {
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }

  /** varint 0: missing (null); 1 and an f64; n + 2 for a small integer n */
  private num(): number | null {
    const k = this.varint();
    if (k >= 2) return k - 2;
    return k === 0 ? null : this.f64();
  }

  private str(): string | null {
    const k = this.varint();
    if (k === 0) return null;
    const s = this.bytes.toString('utf8', this.at, this.at + k - 1);
    this.at += k - 1;
    return s;
  }

  /** zigzag deltas (type 0) or f64s (type 1) */
  private nums(): number[] {
    const n = this.varint();
    const type = this.bytes[this.at++];
    const out = new Array<number>(n);
    if (type === 0) {
      let value = 0;
      for (let i = 0; i < n; i++) {
        const z = this.varint();
        value += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
        out[i] = value;
      }
    } else {
      for (let i = 0; i < n; i++) out[i] = this.f64();
    }
    return out;
  }

  /** Checks the format byte and returns the number of accounts in the page. */
  header(): number {
    const format = this.view.getUint8(0);
    if (format !== PACKED_FORMAT) {
      throw new Error(`packed extract page has format ${format}, expected ${PACKED_FORMAT}`);
    }
    this.at = 1;
    return this.varint();
  }

  /** Decodes the next account into `sink`. */
  next(sink: PageSink): void {
    const id = this.str();
    const signupAt = this.num();
    const firstSeen = this.num() ?? 0;
    const lastSeen = this.num() ?? 0;
    const requests = this.num() ?? 0;
    const hourKeys = this.nums();
    const hourCounts = this.nums();
    const emailDomain = this.str();
    const org = this.str();
    const a = sink.nextAccount();
    for (const kind of PACKED_KINDS) {
      const n = this.varint();
      for (let i = 0; i < n; i++) {
        const value = this.str();
        const count = this.num();
        sink.link(a, kind, value, count);
        if (kind === 'ip') sink.subnet(this.str(), count);
      }
      if (kind === 'ip') sink.endIps(a);
    }
    const models: AccountRow['models'] = [];
    for (let n = this.varint(); n > 0; n--) {
      models.push({
        name: String(this.str()), // a missing name reads "null", as on the Cypher path
        count: this.num() ?? 0,
        firstUse: this.num() ?? 0,
        hourKeys: this.nums(),
        hourCounts: this.nums(),
      });
    }
    const capabilities: AccountRow['capabilities'] = [];
    for (let n = this.varint(); n > 0; n--) {
      capabilities.push({ name: String(this.str()), count: this.num() ?? 0 });
    }
    sink.account({
      id: String(id),
      signupAt,
      firstSeen,
      lastSeen,
      requests,
      hourKeys,
      hourCounts,
      emailDomain,
      org,
      models,
      capabilities,
    });
  }

  /** True when every byte was read (a check that the layouts agree). */
  done(): boolean {
    return this.at === this.bytes.byteLength;
  }
}
