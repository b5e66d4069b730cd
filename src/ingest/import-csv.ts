/**
 * A fold as the CSV files Neo4j's offline importer reads (first load): one node file
 * per label and one relationship file per type, with typed headers, describing exactly
 * the graph the Cypher writer (cypher/ingest/merge-*.cypher) builds from the same rows.
 * Rows are built a chunk of accounts at a time and the fold forgets each chunk once
 * written (it is consumed), so memory only falls from the fold's own.
 * Strings are always quoted ("" inside); arrays use ';' (numbers only).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { BulkImport } from '../platform/neo4j-local';
import type { Aggregator, IpLinkRow, LinkRow } from './aggregate';

/** Link kinds: the row field, then label, key property and relationship type, as in merge-*-links.cypher. */
const LINKS = [
  ['payment', 'PaymentMethod', 'fingerprint', 'PAID_WITH'],
  ['device', 'Device', 'fingerprint', 'USED_DEVICE'],
  ['ip', 'IP', 'address', 'CONNECTED_FROM'],
  ['prompt', 'PromptFingerprint', 'hash', 'SENT'],
  ['emailDomain', 'EmailDomain', 'name', 'HAS_EMAIL_DOMAIN'],
  ['org', 'Org', 'id', 'IN_ORG'],
] as const;

/** Buffered synchronous writer: the files are written once, start to end. */
class CsvFile {
  private readonly fd: number;
  private buffer: string[] = [];
  private size = 0;

  constructor(
    readonly file: string,
    header: string,
  ) {
    this.fd = openSync(file, 'w');
    this.line(header);
  }

  line(text: string): void {
    this.buffer.push(text);
    this.size += text.length + 1;
    if (this.size > 1 << 20) this.flush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.buffer.length > 0) writeSync(this.fd, `${this.buffer.join('\n')}\n`);
    this.buffer = [];
    this.size = 0;
  }
}

/** Rows are built for this many at a time (bounded memory however big the fold). */
const ROWS_PER_CHUNK = 100_000;

/** Consumes `fold`. */
export function writeImportFiles(
  fold: Aggregator,
  eventIds: Iterable<string>,
  dir: string,
  stored: { token: string; at: number },
): BulkImport {
  let multiline = false;
  const str = (s: string | null): string => {
    if (s === null) return '';
    if (!multiline && (s.includes('\n') || s.includes('\r'))) multiline = true;
    return s.includes('"') ? `"${s.replace(/"/g, '""')}"` : `"${s}"`;
  };
  const num = (n: number | null): string => (n === null ? '' : String(n));
  const files: BulkImport = { nodes: [], relationships: [], multiline: false };
  const opened = new Map<string, CsvFile>();
  /** A file is created with its first line (the tool is given only files with rows). */
  const write = (kind: 'nodes' | 'relationships', name: string, header: string, line: string) => {
    let csv = opened.get(name);
    if (!csv) {
      csv = new CsvFile(path.join(dir, `${name}.csv`), header);
      opened.set(name, csv);
      files[kind].push(`${name}=${csv.file}`);
    }
    csv.line(line);
  };

  // A shared value's node spans every link to it (the Cypher writer's first/last seen).
  const values = new Map<string, Map<string, { first: number; last: number; subnet?: string }>>();
  const models = new Set<string>();
  const capabilities = new Set<string>();
  for (const ids of fold.partition(ROWS_PER_CHUNK)) {
    const rows = fold.take(ids);
    for (const a of rows.accounts) {
      write(
        'nodes',
        'Account',
        'id:ID(Account),firstSeen:long,lastSeen:long,signupAt:long,requests:long,emailDomain,org,hourKeys:long[],hourCounts:long[]',
        `${str(a.id)},${a.firstSeen},${a.lastSeen},${num(a.signupAt)},${a.requests},` +
          `${str(a.emailDomain)},${str(a.org)},${a.hourKeys.join(';')},${a.hourCounts.join(';')}`,
      );
    }
    for (const [field, label, , type] of LINKS) {
      let spans = values.get(label);
      if (!spans) values.set(label, (spans = new Map()));
      for (const l of rows[field] as readonly LinkRow[]) {
        const v = spans.get(l.value);
        if (!v) spans.set(l.value, { first: l.firstSeen, last: l.lastSeen, subnet: subnetOf(l) });
        else {
          v.first = Math.min(v.first, l.firstSeen);
          v.last = Math.max(v.last, l.lastSeen);
        }
        write(
          'relationships',
          type,
          `:START_ID(Account),:END_ID(${label}),count:long,firstSeen:long,lastSeen:long`,
          `${str(l.accountId)},${str(l.value)},${l.count},${l.firstSeen},${l.lastSeen}`,
        );
      }
    }
    for (const m of rows.models) {
      models.add(m.model);
      write(
        'relationships',
        'USED_MODEL',
        ':START_ID(Account),:END_ID(Model),count:long,firstUse:long,lastUse:long,hourKeys:long[],hourCounts:long[]',
        `${str(m.accountId)},${str(m.model)},${m.count},${m.firstUse},${m.lastUse},${m.hourKeys.join(';')},${m.hourCounts.join(';')}`,
      );
    }
    for (const c of rows.capabilities) {
      capabilities.add(c.capability);
      write(
        'relationships',
        'REQUESTED',
        ':START_ID(Account),:END_ID(Capability),count:long',
        `${str(c.accountId)},${str(c.capability)},${c.count}`,
      );
    }
  }

  for (const [, label, key] of LINKS) {
    const isIp = label === 'IP';
    for (const [value, v] of values.get(label) ?? []) {
      write(
        'nodes',
        label,
        `${key}:ID(${label}),firstSeen:long,lastSeen:long${isIp ? ',subnet' : ''}`,
        `${str(value)},${v.first},${v.last}${isIp ? `,${str(v.subnet ?? null)}` : ''}`,
      );
    }
  }
  // (:IP)-[:IN_SUBNET]->(:Subnet {cidr, version}); version counts writes touching the
  // subnet in the Cypher path (a lock device, read by nothing): one write here.
  const subnets = new Set<string>();
  for (const [ip, v] of values.get('IP') ?? []) {
    const cidr = v.subnet as string;
    if (!subnets.has(cidr)) {
      subnets.add(cidr);
      write('nodes', 'Subnet', 'cidr:ID(Subnet),version:long', `${str(cidr)},1`);
    }
    write('relationships', 'IN_SUBNET', ':START_ID(IP),:END_ID(Subnet)', `${str(ip)},${str(cidr)}`);
  }
  for (const m of models) write('nodes', 'Model', 'name:ID(Model)', str(m));
  for (const c of capabilities) write('nodes', 'Capability', 'name:ID(Capability)', str(c));
  for (const id of eventIds) {
    write(
      'nodes',
      'IngestedEvent',
      'id:ID(IngestedEvent),token,storedAt:long',
      `${str(id)},${str(stored.token)},${stored.at}`,
    );
  }

  for (const csv of opened.values()) csv.close();
  files.multiline = multiline;
  return files;
}

function subnetOf(link: LinkRow): string | undefined {
  return (link as IpLinkRow).subnet;
}
