/**
 * Identifier generators shared by every population: account ids, payment methods,
 * devices, orgs, domains and IP addresses. Campaign and benign accounts draw from the
 * same generators so no value's format gives away the group it belongs to.
 */
import { Rng } from './rng';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export const WEBMAIL = [
  'gmail.com',
  'outlook.com',
  'yahoo.com',
  'hotmail.com',
  'icloud.com',
  'proton.me',
  'qq.com',
  '163.com',
  'gmx.de',
  'mail.ru',
];
const WEBMAIL_WEIGHTS = [0.4, 0.15, 0.08, 0.07, 0.08, 0.04, 0.07, 0.04, 0.04, 0.03];

const SYLLABLES = (
  'ka lo mi ra ten vo si nu pex dor al bri cor dan el fin gar hol ix jun kel lum mar nor ' +
  'ost pra qui ros sel tor ul var wen xan yor zel bel cam dev ferr glo hex ion jet'
).split(' ');

export class Identity {
  private readonly used = new Set<string>();
  private readonly webmailCum: Float64Array;

  constructor(private readonly rng: Rng) {
    const cum = new Float64Array(WEBMAIL_WEIGHTS.length);
    let s = 0;
    WEBMAIL_WEIGHTS.forEach((w, i) => (cum[i] = s += w));
    this.webmailCum = cum;
  }

  private unique(make: () => string): string {
    for (;;) {
      const v = make();
      if (!this.used.has(v)) {
        this.used.add(v);
        return v;
      }
    }
  }

  accountId(): string {
    return this.unique(() => {
      let s = '';
      for (let i = 0; i < 14; i++) s += ID_ALPHABET[this.rng.int(ID_ALPHABET.length)];
      return s;
    });
  }

  paymentMethod(): string {
    return this.unique(() => `pm_${this.rng.hex(20)}`);
  }

  device(): string {
    return this.unique(() => `dev_${this.rng.hex(16)}`);
  }

  org(): string {
    return this.unique(() => `org_${this.rng.hex(10)}`);
  }

  webmail(): string {
    return WEBMAIL[this.rng.weighted(this.webmailCum)] as string;
  }

  /** A made-up organisation domain with the given top-level domain. */
  domain(tld: string): string {
    return this.unique(() => {
      const n = this.rng.range(2, 3);
      let name = '';
      for (let i = 0; i < n; i++) name += this.rng.pick(SYLLABLES);
      return `${name}.${tld}`;
    });
  }

  /** A /24 prefix "a.b.c" in ordinary public unicast space. */
  subnet24(): string {
    return this.unique(() => {
      let a = 0;
      do a = this.rng.range(2, 223);
      while ([10, 100, 127, 169, 172, 192, 198, 203].includes(a));
      return `${a}.${this.rng.int(256)}.${this.rng.int(256)}`;
    });
  }

  /** `n` distinct host addresses inside one /24. */
  hostsIn(subnet: string, n: number): string[] {
    const hosts = new Set<number>();
    while (hosts.size < Math.min(n, 250)) hosts.add(this.rng.range(2, 254));
    return [...hosts].map((h) => `${subnet}.${h}`);
  }

  /** A fresh IPv6 /48 prefix (three groups), as residentialIp's. */
  subnet48(): string {
    const g = () => this.rng.int(0x10000).toString(16);
    return this.unique(() => `2a0${this.rng.range(1, 9)}:${g()}:${g()}`);
  }

  /** `n` distinct host addresses inside one IPv6 /48, each in a /64 of its own. */
  hostsIn48(prefix: string, n: number): string[] {
    const nets = new Set<number>();
    while (nets.size < Math.min(n, 250)) nets.add(this.rng.range(1, 0xffff));
    return [...nets].map(
      (net) => `${prefix}:${net.toString(16)}::${this.rng.range(1, 0xffff).toString(16)}`,
    );
  }

  /** A residential address: mostly IPv4 in a fresh /24, sometimes IPv6. */
  residentialIp(): string {
    if (this.rng.chance(0.15)) {
      const g = () => this.rng.int(0x10000).toString(16);
      return this.unique(() => `2a0${this.rng.range(1, 9)}:${g()}:${g()}:${g()}::${g()}`);
    }
    return this.unique(() => `${this.subnet24()}.${this.rng.range(2, 254)}`);
  }
}
