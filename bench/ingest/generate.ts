/**
 * Generates the ingest benchmark's input: N events (default 1,000,000) over
 * ~50,000 accounts in the public contract, seeded. Mix per account: one sign-up,
 * one or two payments, the rest requests with an IP from a realistic spread
 * (home IPs, shared office/NAT IPs), a prompt fingerprint from a pool of
 * templates, a model and a capability, grouped in sessions (mean 8 requests).
 * `warmUp` draws the same mix over values disjoint from the main file's (other
 * account ids, event ids, IP ranges, payment methods, email domains, templates), so
 * writing it first warms Neo4j's JIT without touching what the timed run writes.
 * Sign-ups and payments carry an `id`; requests carry one only when `keyed` (a producer
 * that resends safely keys every event, and each key is checked and stored).
 */
import { createWriteStream } from 'node:fs';
import { Rng } from '../../src/simulate/rng';

export async function generateIngestEvents(
  file: string,
  events: number,
  accounts: number,
  seed = 7,
  warmUp = false,
  keyed = false,
): Promise<void> {
  const rng = new Rng(seed, warmUp ? 'bench-ingest-warm-up' : 'bench-ingest');
  const ns = warmUp ? 'w-' : '';
  const out = createWriteStream(file);
  const start = Date.UTC(2026, 0, 1);
  const span = 60 * 86_400_000;
  const fingerprints = Array.from({ length: 5000 }, () => rng.hex(16));
  const models = ['model-a', 'model-b', 'model-c'];
  const capabilities = ['reasoning', 'coding', 'tool_use', 'chat', 'data_analysis'];
  const [home, shared] = warmUp ? ['101', '198.51'] : ['100', '203.0'];
  const homeIp = (a: number) => `${home}.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}`;
  const sharedIps = Array.from({ length: 500 }, (_, i) => `${shared}.${i >> 8}.${i & 255}`);
  let written = 0;
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    written++;
  };
  // Sign-ups and payments first, then requests in time order, as a stream would carry them.
  for (let a = 0; a < accounts; a++) {
    const at = new Date(start + rng.int(span / 4)).toISOString();
    await write(
      JSON.stringify({
        id: `${ns}s-${a}`,
        type: 'signup',
        accountId: `${ns}acct-${a}`,
        at,
        ip: homeIp(a),
        emailDomain: a % 5 === 0 ? `${ns}co${a % 800}.example` : `${ns}mail.example`,
      }),
    );
    const payments = 1 + (a % 7 === 0 ? 1 : 0);
    for (let p = 0; p < payments; p++) {
      await write(
        JSON.stringify({
          id: `${ns}p-${a}-${p}`,
          type: 'payment',
          accountId: `${ns}acct-${a}`,
          at,
          paymentMethod: `${ns}pm-${a % 9 === 0 ? a % 400 : a}-${p}`,
        }),
      );
    }
  }
  // Requests arrive in sessions, as API traffic does: one account sends a run of
  // requests (mean 8) from one IP within minutes, mostly on one prompt template.
  const requests = events - written;
  let i = 0;
  while (i < requests) {
    const a = rng.int(accounts);
    const length = Math.min(requests - i, 1 + rng.poisson(7));
    const ip = rng.chance(0.3) ? (sharedIps[rng.int(sharedIps.length)] as string) : homeIp(a);
    const model = models[rng.int(models.length)];
    const capability = capabilities[rng.int(capabilities.length)];
    for (let k = 0; k < length; k++, i++) {
      const at = new Date(start + Math.floor((i / requests) * span)).toISOString();
      await write(
        JSON.stringify({
          ...(keyed ? { id: `${ns}r-${i}` } : {}),
          type: 'request',
          accountId: `${ns}acct-${a}`,
          at,
          ip,
          promptFingerprint:
            fingerprints[(a * 7 + (rng.chance(0.8) ? 0 : rng.int(20))) % fingerprints.length],
          model,
          capability,
        }),
      );
    }
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
}
