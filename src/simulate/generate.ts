/**
 * Day-by-day event generation: for each day, the sign-ups, payments and requests of every
 * active account, sorted by time and handed to a sink as JSON lines. Only one day of
 * events is ever in memory, so scale 1 (~25 M lines) runs in bounded memory.
 */
import { EffectiveParams } from './params';
import { Account, Population, RequestMix, dayFactor } from './population';
import { oneOffText } from './prompts';
import { Rng, cumulative } from './rng';

const DAY = 86_400_000;
const MINUTE = 60_000;

export interface DaySink {
  (lines: string[], day: number): Promise<void>;
}

/** ISO-8601 with second precision ("2026-01-01T12:34:56Z"). */
function iso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

function optional(key: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${key}":${JSON.stringify(value)}`;
}

function signupLine(a: Account, ms: number): string {
  return (
    `{"id":"${a.id}:signup","type":"signup","accountId":"${a.id}","at":"${iso(ms)}"` +
    `,"ip":"${a.signupIp}","emailDomain":"${a.emailDomain}"` +
    optional('org', a.org) +
    optional('device', a.device) +
    '}'
  );
}

function paymentLine(a: Account, pm: string, n: number, ms: number): string {
  return `{"id":"${a.id}:payment:${n}","type":"payment","accountId":"${a.id}","at":"${iso(ms)}","paymentMethod":"${pm}"}`;
}

export class Generator {
  private readonly rng: Rng;
  private readonly oldModels: string[];
  private readonly oldCum: Float64Array;
  /** Accounts whose sign-up / second payment falls on a day, by day index (-1 = before). */
  private readonly signups = new Map<number, Account[]>();
  private readonly payments2 = new Map<number, Account[]>();
  events = 0;
  requests = 0;

  constructor(
    private readonly p: EffectiveParams,
    private readonly pop: Population,
  ) {
    this.rng = Rng.derive(p.seed, 'events');
    this.oldModels = Object.keys(p.oldModels);
    this.oldCum = cumulative(Object.values(p.oldModels));
    for (const a of pop.accounts) {
      const d = Math.max(-1, Math.floor((a.signupMs - pop.startMs) / DAY));
      push(this.signups, d, a);
      if (a.secondPayment) {
        push(this.payments2, Math.floor((a.secondPayment.atMs - pop.startMs) / DAY), a);
      }
    }
  }

  /** Sign-ups (and first payments) of accounts that existed before the window. */
  prologue(): string[] {
    const out: Entry[] = [];
    for (const a of this.signups.get(-1) ?? []) this.onboard(a, out);
    return this.finish(out);
  }

  day(day: number): string[] {
    const { p, pop, rng } = this;
    const out: Entry[] = [];
    const dayMs = pop.startMs + day * DAY;
    for (const a of this.signups.get(day) ?? []) this.onboard(a, out);
    for (const a of this.payments2.get(day) ?? []) {
      const sp = a.secondPayment;
      if (sp) out.push({ t: sp.atMs, line: paymentLine(a, sp.pm, 2, sp.atMs) });
    }
    for (const sub of pop.subgroups) {
      const n = rng.range(sub.wavesPerDay[0], sub.wavesPerDay[1]);
      sub.waves = Array.from({ length: n }, () => dayMs + rng.next() * DAY);
    }
    const jitter = p.waveJitterMinutes * MINUTE;
    for (const a of pop.accounts) {
      if (day < a.fromDay || day >= a.toDay || a.rate <= 0) continue;
      if (a.activeShare < 1 && !rng.chance(a.activeShare)) continue;
      const n = rng.poisson((a.rate * dayFactor(a, day, pop.startMs)) / a.activeShare);
      const from = Math.max(dayMs, a.signupMs);
      for (let i = 0; i < n; i++) {
        let t: number;
        if (a.sub) {
          const wave = a.sub.waves[rng.int(a.sub.waves.length)] as number;
          t = Math.min(dayMs + DAY - 1000, wave + rng.next() * jitter);
        } else if (a.hours) {
          t = dayMs + rng.weighted(a.hours) * 3_600_000 + rng.next() * 3_600_000;
        } else {
          t = dayMs + rng.next() * DAY;
        }
        if (t < from) t = from + 1000 + rng.next() * (dayMs + DAY - from - 2000);
        t = Math.floor(t / 1000) * 1000;
        out.push({ t, line: this.request(a, t) });
      }
    }
    return this.finish(out);
  }

  private onboard(a: Account, out: Entry[]): void {
    const t = Math.floor(a.signupMs / 1000) * 1000;
    out.push({ t, line: signupLine(a, t) });
    // The first payment follows within minutes, on the same UTC day (keeps days sorted).
    const dayEnd = this.pop.startMs + (Math.floor((t - this.pop.startMs) / DAY) + 1) * DAY;
    const pt = Math.min(dayEnd - 1000, t + 1000 + Math.floor(this.rng.next() * 20) * MINUTE);
    out.push({ t: pt, line: paymentLine(a, a.payment, 1, pt) });
  }

  private request(a: Account, t: number): string {
    const { rng, p, pop } = this;
    let ip: string;
    const ev = a.event;
    if (ev && t >= ev.fromMs && t < ev.toMs && rng.chance(0.9)) ip = rng.pick(ev.ips);
    else ip = rng.pick(a.ips.items[rng.weighted(a.ips.cum)] as string[]);
    const mix = a.mixes.items[rng.weighted(a.mixes.cum)] as RequestMix;
    const capability = mix.capabilities.items[rng.weighted(mix.capabilities.cum)] as string;
    const raw = p.rawPromptFraction > 0 && rng.chance(p.rawPromptFraction);
    let prompt: string;
    if (mix.pool) {
      const i = mix.popularity
        ? rng.weighted(mix.popularity)
        : rng.int(mix.pool.fingerprints.length);
      prompt = raw
        ? `"prompt":${JSON.stringify(mix.pool.texts[i])}`
        : `"promptFingerprint":"${mix.pool.fingerprints[i]}"`;
    } else {
      prompt = raw
        ? `"prompt":${JSON.stringify(oneOffText(rng))}`
        : `"promptFingerprint":"${rng.hex(16)}"`;
    }
    this.requests++;
    return (
      `{"type":"request","accountId":"${a.id}","at":"${iso(t)}","ip":"${ip}",${prompt}` +
      `,"model":"${this.model(a, t, pop.releaseMs)}","capability":"${capability}"}`
    );
  }

  private model(a: Account, t: number, releaseMs: number): string {
    const { p, rng } = this;
    let share = 0;
    if (t >= releaseMs) {
      const days = (t - releaseMs) / DAY;
      if (a.adoption === 'pivot') {
        const c = p.campaigns.coding;
        share = t >= a.pivotAtMs ? c.pivotShare : 0;
      } else if (a.adoption === 'heavy') {
        share = Math.min(p.heavyAdoptionMax, p.heavyAdoptionPerDay * days);
      } else {
        share = Math.min(p.adoptionMax, p.adoptionPerDay * days);
      }
    }
    if (share > 0 && rng.chance(share)) return p.newModel;
    return this.oldModels[rng.weighted(this.oldCum)] as string;
  }

  private finish(out: Entry[]): string[] {
    out.sort((x, y) => x.t - y.t);
    this.events += out.length;
    return out.map((e) => e.line);
  }
}

interface Entry {
  t: number;
  line: string;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
