/**
 * Day-by-day event generation: for each day, the sign-ups, payments and requests of every
 * active account, sorted by time and handed to a sink as JSON lines. Only one day of
 * events (and the requests of late waves that run on past midnight, held for the next
 * day) is ever in memory, so scale 1 (~25 M lines) runs in bounded memory.
 */
import { EffectiveParams } from './params';
import {
  Account,
  Population,
  RequestMix,
  eventSpan,
  firstRequestMs,
  weekFactor,
} from './population';
import { oneOffText } from './prompts';
import { Rng, cumulative } from './rng';

const DAY = 86_400_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

export interface DaySink {
  (lines: string[], day: number): Promise<void>;
}

const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
let isoDayStart = 0;
let isoDayPrefix = '1970-01-01T';

/** ISO-8601 with second precision ("2026-01-01T12:34:56Z"); fast path within one day. */
function iso(ms: number): string {
  let off = ms - isoDayStart;
  if (off < 0 || off >= DAY) {
    isoDayStart = Math.floor(ms / DAY) * DAY;
    isoDayPrefix = new Date(isoDayStart).toISOString().slice(0, 11);
    off = ms - isoDayStart;
  }
  const sec = Math.floor(off / 1000);
  const h = Math.floor(sec / 3600);
  const m = Math.floor(sec / 60) % 60;
  return `${isoDayPrefix}${TWO[h]}:${TWO[m]}:${TWO[sec % 60]}Z`;
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
  /** Breaks ties within a second; a stream of its own, so the events' content stays. */
  private readonly orderRng: Rng;
  /**
   * Fast adopters' switch to the new model (a stressor): a stream of its own, so turning
   * them on changes only their requests' models, not the draws of any other event.
   */
  private readonly fastRng: Rng;
  private readonly oldModels: string[];
  private readonly oldCum: Float64Array;
  /** Accounts whose sign-up / second payment falls on a day, by day index (-1 = before). */
  private readonly signups = new Map<number, Account[]>();
  private readonly payments2 = new Map<number, Account[]>();
  /** Requests of yesterday's late waves that run past midnight: emitted with today's. */
  private carry = new Batch();
  events = 0;
  requests = 0;

  constructor(
    private readonly p: EffectiveParams,
    private readonly pop: Population,
  ) {
    if (p.waveJitterMinutes * MINUTE >= DAY) throw new Error('waveJitterMinutes must be < 1 day');
    this.rng = Rng.derive(p.seed, 'events');
    this.orderRng = Rng.derive(p.seed, 'order');
    this.fastRng = Rng.derive(p.seed, 'fast-adopters');
    this.oldModels = Object.keys(p.oldModels);
    this.oldCum = cumulative(Object.values(p.oldModels));
    for (const a of pop.accounts) {
      const d = Math.max(-1, Math.floor((a.signupMs - pop.startMs) / DAY));
      push(this.signups, d, a);
      if (a.secondPayment) {
        push(this.payments2, Math.floor((a.secondPayment.atMs - pop.startMs) / DAY), a);
      }
    }
    this.checkBusiestDay();
  }

  /**
   * Refuses, before any event, a world whose busiest day would not fit in one day's sort
   * (finish): expected requests plus sign-ups and payments, with 10 % left for chance.
   */
  private checkBusiestDay(): void {
    const { p, pop } = this;
    let most = 2 * (this.signups.get(-1)?.length ?? 0);
    let busiest = -1;
    for (let d = 0; d < p.days; d++) {
      const n =
        (pop.expectedRequests[d] ?? 0) +
        2 * (this.signups.get(d)?.length ?? 0) +
        (this.payments2.get(d)?.length ?? 0);
      if (n > most) [most, busiest] = [n, d];
    }
    if (most > 0.9 * MAX_DAY_EVENTS)
      throw new Error(
        `scale ${p.scale}: the busiest day would hold about ${Math.round(most).toLocaleString('en-US')} ` +
          `events, more than one day can (${MAX_DAY_EVENTS.toLocaleString('en-US')}, less 10 % ` +
          `for chance) — day ${busiest} of the window (-1: before it); lower the scale or the ` +
          'overrides that crowd that day',
      );
  }

  /** Sign-ups (and first payments) of accounts that existed before the window. */
  prologue(): string[] {
    const out = new Batch();
    for (const a of this.signups.get(-1) ?? []) this.onboard(a, out);
    return this.finish(out);
  }

  day(day: number): string[] {
    const { p, pop, rng } = this;
    const out = this.carry;
    this.carry = new Batch();
    const dayMs = pop.startMs + day * DAY;
    const windowEndMs = pop.startMs + p.days * DAY;
    for (const a of this.signups.get(day) ?? []) this.onboard(a, out);
    for (const a of this.payments2.get(day) ?? []) {
      const sp = a.secondPayment;
      if (sp) out.push(sp.atMs, paymentLine(a, sp.pm, 2, sp.atMs));
    }
    for (const sub of pop.subgroups) {
      const n = rng.range(sub.wavesPerDay[0], sub.wavesPerDay[1]);
      const office = sub.office;
      // An office window that opens late in UTC wraps past midnight into the same day.
      sub.waves = Array.from({ length: n }, () =>
        office === undefined
          ? dayMs + rng.next() * DAY
          : dayMs + ((office.opensUtcHour + rng.next() * office.hours) % 24) * HOUR,
      );
    }
    const jitter = p.waveJitterMinutes * MINUTE;
    for (const a of pop.accounts) {
      if (day < a.fromDay || day >= a.toDay || a.rate <= 0) continue;
      this.eventRequests(a, day, out);
      if (a.activeShare < 1 && !rng.chance(a.activeShare)) continue;
      const n = rng.poisson((a.rate * weekFactor(a, day, pop.startMs)) / a.activeShare);
      // from the second after the sign-up's (its event is at that whole second): a request
      // in the same second could be ordered before it
      const from = Math.max(dayMs, firstRequestMs(a));
      for (let i = 0; i < n; i++) {
        let t: number;
        if (a.sub) {
          const wave = a.sub.waves[rng.int(a.sub.waves.length)] as number;
          // A late wave runs on past midnight (into tomorrow's batch), as waves do around
          // the clock; only the window's end cuts it off.
          t = wave + rng.next() * jitter;
        } else if (a.hours) {
          t = dayMs + rng.weighted(a.hours) * 3_600_000 + rng.next() * 3_600_000;
        } else {
          t = dayMs + rng.next() * DAY;
        }
        // Before the sign-up: not drawn, as calibrate() counts the sign-up day (moving it
        // into the hours after squeezed a whole day's requests into them).
        if (t < from) continue;
        t = Math.floor(t / 1000) * 1000;
        if (t < dayMs + DAY) out.push(t, this.request(a, t));
        else if (t < windowEndMs) this.carry.push(t, this.request(a, t));
      }
    }
    return this.finish(out);
  }

  /**
   * A hackathon's extra requests (boost − 1 times the usual rate) in the hours of the day
   * it covers, spread evenly over them; participants are there whether or not it would
   * have been one of their active days. With the usual requests, the same expectation
   * as dayFactor, which calibration uses.
   */
  private eventRequests(a: Account, day: number, out: Batch): void {
    const span = eventSpan(a, day, this.pop.startMs);
    if (!span || !a.event) return;
    const from = Math.max(span[0], firstRequestMs(a));
    const to = span[1];
    if (to <= from) return;
    const week = weekFactor(a, day, this.pop.startMs);
    const n = this.rng.poisson((a.rate * week * (a.event.boost - 1) * (to - from)) / DAY);
    for (let i = 0; i < n; i++) {
      const t = Math.floor((from + this.rng.next() * (to - from)) / 1000) * 1000;
      out.push(t, this.request(a, t));
    }
  }

  private onboard(a: Account, out: Batch): void {
    const t = Math.floor(a.signupMs / 1000) * 1000;
    out.push(t, signupLine(a, t));
    // The first payment follows within minutes, on the same UTC day (keeps days sorted);
    // after the sign-up's last second of a day, the next day's first second: the next
    // day's batch, or before the window the prologue's own, which holds all those days
    // (carried, it came after the whole prologue: review, 12-07).
    const dayEnd = this.pop.startMs + (Math.floor((t - this.pop.startMs) / DAY) + 1) * DAY;
    const pt = Math.min(dayEnd - 1000, t + 1000 + Math.floor(this.rng.next() * 20) * MINUTE);
    if (pt > t) out.push(pt, paymentLine(a, a.payment, 1, pt));
    else
      (dayEnd < this.pop.startMs ? out : this.carry).push(
        dayEnd,
        paymentLine(a, a.payment, 1, dayEnd),
      );
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
        share = t >= a.pivotAtMs ? a.pivotShare : 0;
      } else if (a.adoption === 'heavy') {
        share = Math.min(p.heavyAdoptionMax, p.heavyAdoptionPerDay * days);
      } else {
        share = Math.min(p.adoptionMax, p.adoptionPerDay * days);
      }
    }
    const model =
      share > 0 && rng.chance(share)
        ? p.newModel
        : (this.oldModels[rng.weighted(this.oldCum)] as string);
    // A fast adopter draws as an ordinary account above (the events stream stays the
    // same), then from its switch on the new model takes its share, from its own stream.
    const fast = a.fastAdoption;
    if (!fast || t < fast.atMs) return model;
    if (this.fastRng.chance(fast.share)) return p.newModel;
    if (model !== p.newModel) return model;
    return this.oldModels[this.fastRng.weighted(this.oldCum)] as string;
  }

  /**
   * Lines sorted by time, ties in a seeded random order (insertion order would put
   * campaigns, built first, before benign accounts within a second): one numeric sort
   * over (second, position in a shuffle) keys.
   */
  private finish(out: Batch): string[] {
    const n = out.lines.length;
    if (n >= MAX_DAY_EVENTS) throw new Error(`too many events in one day (${n}); lower the scale`);
    let min = Infinity;
    for (const t of out.times) min = Math.min(min, t);
    const order = this.orderRng.shuffle(Array.from({ length: n }, (_, i) => i));
    const keys = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const t = out.times[order[j] as number] as number;
      keys[j] = Math.floor((t - min) / 1000) * INDEX_BITS + j;
    }
    keys.sort();
    const lines = new Array<string>(n);
    for (let k = 0; k < n; k++) {
      const i = order[(keys[k] as number) % INDEX_BITS] as number;
      lines[k] = out.lines[i] as string;
    }
    this.events += n;
    return lines;
  }
}

/** One day's events before sorting: times (ms, whole seconds) and lines, in parallel. */
class Batch {
  readonly times: number[] = [];
  readonly lines: string[] = [];
  push(t: number, line: string): void {
    this.times.push(t);
    this.lines.push(line);
  }
}

const INDEX_BITS = 2 ** 22;
/** Events one day can hold: their positions are packed into the sort keys' low bits. */
export const MAX_DAY_EVENTS = INDEX_BITS;

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
