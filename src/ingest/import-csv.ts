/**
 * Folded rows as the CSV files Neo4j's offline importer reads (first load): one node
 * file per label and one relationship file per type, with typed headers, describing
 * exactly the graph the Cypher writer (cypher/ingest/merge-*.cypher) builds from the
 * same rows. Strings are always quoted ("" inside); arrays use ';' (numbers only).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { BatchRows, IpLinkRow, LinkRow } from './aggregate';

export interface ImportFiles {
  /** `Label=path`, `TYPE=path`: the import tool's --nodes / --relationships */
  nodes: string[];
  relationships: string[];
  /** some string holds a line break (the tool must then parse multi-line fields) */
  multiline: boolean;
}

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

export function writeImportFiles(
  rows: BatchRows,
  eventIds: Iterable<string>,
  dir: string,
  stored: { token: string; at: number },
): ImportFiles {
  let multiline = false;
  const str = (s: string | null): string => {
    if (s === null) return '';
    if (!multiline && /[\r\n]/.test(s)) multiline = true;
    return `"${s.replace(/"/g, '""')}"`;
  };
  const num = (n: number | null): string => (n === null ? '' : String(n));
  const files: ImportFiles = { nodes: [], relationships: [], multiline: false };
  const open = (kind: 'nodes' | 'relationships', name: string, header: string): CsvFile => {
    const file = path.join(dir, `${name}.csv`);
    files[kind].push(`${name}=${file}`);
    return new CsvFile(file, header);
  };

  const accounts = open(
    'nodes',
    'Account',
    'id:ID(Account),firstSeen:long,lastSeen:long,signupAt:long,requests:long,emailDomain,org,hourKeys:long[],hourCounts:long[]',
  );
  for (const a of rows.accounts) {
    accounts.line(
      [
        str(a.id),
        a.firstSeen,
        a.lastSeen,
        num(a.signupAt),
        a.requests,
        str(a.emailDomain),
        str(a.org),
        a.hourKeys.join(';'),
        a.hourCounts.join(';'),
      ].join(','),
    );
  }
  accounts.close();

  for (const [field, label, key, type] of LINKS) {
    const links: readonly LinkRow[] = rows[field];
    if (links.length === 0) continue;
    // A shared value's node spans every link to it (the Cypher writer's first/last seen).
    const values = new Map<string, { first: number; last: number; subnet?: string }>();
    for (const l of links) {
      const v = values.get(l.value);
      if (!v) values.set(l.value, { first: l.firstSeen, last: l.lastSeen, subnet: subnetOf(l) });
      else {
        v.first = Math.min(v.first, l.firstSeen);
        v.last = Math.max(v.last, l.lastSeen);
      }
    }
    const isIp = field === 'ip';
    const nodes = open(
      'nodes',
      label,
      `${key}:ID(${label}),firstSeen:long,lastSeen:long${isIp ? ',subnet' : ''}`,
    );
    for (const [value, v] of values) {
      nodes.line(`${str(value)},${v.first},${v.last}${isIp ? `,${str(v.subnet ?? null)}` : ''}`);
    }
    nodes.close();
    const rels = open(
      'relationships',
      type,
      `:START_ID(Account),:END_ID(${label}),count:long,firstSeen:long,lastSeen:long`,
    );
    for (const l of links) {
      rels.line(`${str(l.accountId)},${str(l.value)},${l.count},${l.firstSeen},${l.lastSeen}`);
    }
    rels.close();
    if (isIp) {
      // (:IP)-[:IN_SUBNET]->(:Subnet {cidr, version}); version counts writes touching the
      // subnet in the Cypher path (a lock device, read by nothing): one write here.
      const subnets = new Set<string>();
      const inSubnet = open('relationships', 'IN_SUBNET', ':START_ID(IP),:END_ID(Subnet)');
      for (const [value, v] of values) {
        const cidr = v.subnet as string;
        subnets.add(cidr);
        inSubnet.line(`${str(value)},${str(cidr)}`);
      }
      inSubnet.close();
      const subnetNodes = open('nodes', 'Subnet', 'cidr:ID(Subnet),version:long');
      for (const cidr of subnets) subnetNodes.line(`${str(cidr)},1`);
      subnetNodes.close();
    }
  }

  const named = (
    label: string,
    type: string,
    names: Iterable<string>,
    header: string,
    lines: () => Iterable<string>,
  ): void => {
    const distinct = [...new Set(names)];
    if (distinct.length === 0) return;
    const nodes = open('nodes', label, `name:ID(${label})`);
    for (const name of distinct) nodes.line(str(name));
    nodes.close();
    const rels = open('relationships', type, header);
    for (const line of lines()) rels.line(line);
    rels.close();
  };
  named(
    'Model',
    'USED_MODEL',
    rows.models.map((m) => m.model),
    ':START_ID(Account),:END_ID(Model),count:long,firstUse:long,lastUse:long,hourKeys:long[],hourCounts:long[]',
    () =>
      rows.models.map(
        (m) =>
          `${str(m.accountId)},${str(m.model)},${m.count},${m.firstUse},${m.lastUse},${m.hourKeys.join(';')},${m.hourCounts.join(';')}`,
      ),
  );
  named(
    'Capability',
    'REQUESTED',
    rows.capabilities.map((c) => c.capability),
    ':START_ID(Account),:END_ID(Capability),count:long',
    () => rows.capabilities.map((c) => `${str(c.accountId)},${str(c.capability)},${c.count}`),
  );

  const events = open('nodes', 'IngestedEvent', 'id:ID(IngestedEvent),token,storedAt:long');
  for (const id of eventIds) events.line(`${str(id)},${str(stored.token)},${stored.at}`);
  events.close();

  files.multiline = multiline;
  return files;
}

function subnetOf(link: LinkRow): string | undefined {
  return (link as IpLinkRow).subnet;
}
