/**
 * A fold as the CSV files Neo4j's offline importer reads (first load): one node file
 * per label and one relationship file per type, with typed headers, describing exactly
 * the graph the Cypher writer (cypher/ingest/merge-*.cypher) builds from the same rows.
 * Rows are built a chunk of accounts at a time and the fold forgets each chunk once
 * written (it is consumed), so memory only falls from the fold's own.
 * Strings are always quoted ("" inside); arrays use ';' (numbers only).
 * Nodes are numbered here, 0, 1, 2, … across all labels, and the tool takes those
 * numbers as the store's node ids (`--id-type=actual`): relationships name their ends
 * by number, so the tool keeps no string-id map to sort and search (its relationship
 * stage ~2.2 → ~0.9 s at 1M events; bench/RESULTS.md). Key values are plain properties.
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
  const files: BulkImport = { nodes: [], relationships: [], multiline: false, idType: 'actual' };
  let nextNode = 0;
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

  /** Node number of a model, capability or subnet, numbered at first sight. */
  const named = () => {
    const nodes = new Map<string, number>();
    return {
      nodes,
      of(name: string): number {
        let node = nodes.get(name);
        if (node === undefined) nodes.set(name, (node = nextNode++));
        return node;
      },
    };
  };
  // A shared value's node spans every link to it (the Cypher writer's first/last seen).
  type Value = { node: number; first: number; last: number; subnet?: string };
  const values = new Map<string, Map<string, Value>>();
  const models = named();
  const capabilities = named();
  for (const ids of fold.partition(ROWS_PER_CHUNK)) {
    const rows = fold.take(ids);
    // A chunk holds all of its accounts' rows.
    const accounts = new Map<string, number>();
    const account = (id: string) => accounts.get(id) as number;
    for (const a of rows.accounts) {
      accounts.set(a.id, nextNode);
      write(
        'nodes',
        'Account',
        ':ID,id,firstSeen:long,lastSeen:long,signupAt:long,requests:long,emailDomain,org,emailDomainAt:long,orgAt:long,hourKeys:long[],hourCounts:long[]',
        `${nextNode++},${str(a.id)},${a.firstSeen},${a.lastSeen},${num(a.signupAt)},${a.requests},` +
          `${str(a.emailDomain)},${str(a.org)},${num(a.emailDomainAt)},${num(a.orgAt)},` +
          `${a.hourKeys.join(';')},${a.hourCounts.join(';')}`,
      );
    }
    for (const [field, label, , type] of LINKS) {
      let spans = values.get(label);
      if (!spans) values.set(label, (spans = new Map()));
      for (const l of rows[field] as readonly LinkRow[]) {
        let v = spans.get(l.value);
        if (!v) {
          v = { node: nextNode++, first: l.firstSeen, last: l.lastSeen, subnet: subnetOf(l) };
          spans.set(l.value, v);
        } else {
          v.first = Math.min(v.first, l.firstSeen);
          v.last = Math.max(v.last, l.lastSeen);
        }
        write(
          'relationships',
          type,
          ':START_ID,:END_ID,count:long,firstSeen:long,lastSeen:long',
          `${account(l.accountId)},${v.node},${l.count},${l.firstSeen},${l.lastSeen}`,
        );
      }
    }
    for (const m of rows.models) {
      write(
        'relationships',
        'USED_MODEL',
        ':START_ID,:END_ID,count:long,firstUse:long,lastUse:long,hourKeys:long[],hourCounts:long[]',
        `${account(m.accountId)},${models.of(m.model)},${m.count},${m.firstUse},${m.lastUse},${m.hourKeys.join(';')},${m.hourCounts.join(';')}`,
      );
    }
    for (const c of rows.capabilities) {
      write(
        'relationships',
        'REQUESTED',
        ':START_ID,:END_ID,count:long',
        `${account(c.accountId)},${capabilities.of(c.capability)},${c.count}`,
      );
    }
  }

  for (const [, label, key] of LINKS) {
    const isIp = label === 'IP';
    for (const [value, v] of values.get(label) ?? []) {
      write(
        'nodes',
        label,
        `:ID,${key},firstSeen:long,lastSeen:long${isIp ? ',subnet' : ''}`,
        `${v.node},${str(value)},${v.first},${v.last}${isIp ? `,${str(v.subnet ?? null)}` : ''}`,
      );
    }
  }
  // (:IP)-[:IN_SUBNET]->(:Subnet {cidr, version}); version counts writes touching the
  // subnet in the Cypher path (a lock device, read by nothing): one write here.
  const subnets = named();
  for (const ip of values.get('IP')?.values() ?? []) {
    const subnet = subnets.of(ip.subnet as string);
    write('relationships', 'IN_SUBNET', ':START_ID,:END_ID', `${ip.node},${subnet}`);
  }
  for (const [cidr, node] of subnets.nodes) {
    write('nodes', 'Subnet', ':ID,cidr,version:long', `${node},${str(cidr)},1`);
  }
  for (const [m, node] of models.nodes) write('nodes', 'Model', ':ID,name', `${node},${str(m)}`);
  for (const [c, node] of capabilities.nodes) {
    write('nodes', 'Capability', ':ID,name', `${node},${str(c)}`);
  }
  for (const id of eventIds) {
    write(
      'nodes',
      'IngestedEvent',
      ':ID,id,token,storedAt:long',
      `${nextNode++},${str(id)},${str(stored.token)},${stored.at}`,
    );
  }

  for (const csv of opened.values()) csv.close();
  files.multiline = multiline;
  return files;
}

function subnetOf(link: LinkRow): string | undefined {
  return (link as IpLinkRow).subnet;
}
