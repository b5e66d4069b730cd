import {
  canonicalFingerprint,
  fnv1a64,
  hammingHex,
  popcount32,
  simhash,
  tokenize,
} from '../../../src/ingest/simhash';

const hex = (pair: [number, number]) => pair.map((n) => n.toString(16).padStart(8, '0')).join('');

describe('simhash', () => {
  it('implements 64-bit FNV-1a (published test vectors)', () => {
    expect(hex(fnv1a64(''))).toBe('cbf29ce484222325');
    expect(hex(fnv1a64('a'))).toBe('af63dc4c8601ec8c');
    expect(hex(fnv1a64('foobar'))).toBe('85944171f73967e8');
  });

  it('tokenises as documented: NFKC, lower-case, split on non-alphanumerics', () => {
    expect(tokenize('Hello, WORLD!  ﬁne—42')).toEqual(['hello', 'world', 'fine', '42']);
    // One feature: the fingerprint is that feature's hash. A pair is one bigram "a b".
    expect(simhash('Solo!')).toBe(hex(fnv1a64('solo')));
    expect(simhash('A, b')).toBe(hex(fnv1a64('a b')));
  });

  it('hashes the UTF-8 bytes TextEncoder writes: 1- to 4-byte characters, lone surrogates', () => {
    const reference = (text: string): string => {
      let h = 0xcbf29ce484222325n;
      for (const byte of new TextEncoder().encode(text))
        h = ((h ^ BigInt(byte)) * 0x100000001b3n) & (2n ** 64n - 1n);
      return h.toString(16).padStart(16, '0');
    };
    const texts = ['a', 'é', 'ß€', '数据', '😀', 'x\ud800y', '\udc00', 'end\ud83d', 'ünï 😀 数 a'];
    for (const t of texts) expect(hex(fnv1a64(t))).toBe(reference(t));
    // Every code unit from U+0000 to U+FFFF once, in one text.
    const all = Array.from({ length: 0x10000 }, (_, i) => String.fromCharCode(i)).join('');
    expect(hex(fnv1a64(all))).toBe(reference(all));
  });

  it('splits exactly as the documented regex, on every kind of character', () => {
    const documented = (text: string) =>
      text
        .normalize('NFKC')
        .toLowerCase()
        .split(/[^\p{L}\p{N}]+/u)
        .filter(Boolean);
    // Seeded: ASCII, Latin, CJK, emoji, mathematical letters (U+1D400, astral and \p{L}),
    // combining marks, lone surrogates, and every BMP code unit once.
    let seed = 42;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const pools = [
      [0x20, 0x7f],
      [0xa0, 0x250],
      [0x4e00, 0x4e80],
      [0x1f600, 0x1f650],
      [0x1d400, 0x1d450],
      [0x300, 0x36f],
      [0xd800, 0xdfff],
    ];
    for (let n = 0; n < 200; n++) {
      let text = '';
      for (let k = 0; k < 40; k++) {
        const [lo, hi] = pools[next() % pools.length]!;
        const cp = lo! + (next() % (hi! - lo!));
        text += cp >= 0xd800 && cp < 0xe000 ? String.fromCharCode(cp) : String.fromCodePoint(cp);
      }
      expect(tokenize(text)).toEqual(documented(text));
    }
    const bmp = Array.from({ length: 0x10000 }, (_, i) => String.fromCharCode(i)).join('');
    expect(tokenize(bmp)).toEqual(documented(bmp));
  });

  it('gives 16 lowercase hex chars and is deterministic', () => {
    const fp = simhash('Explain step by step how to reverse a linked list.');
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    expect(simhash('Explain step by step how to reverse a linked list.')).toBe(fp);
    expect(simhash('')).toBe('0000000000000000');
  });

  it('matches the documented algorithm, written again independently with BigInt', () => {
    // What a client would write from the doc comment in simhash.ts.
    const reference = (text: string): string => {
      const tokens = text
        .normalize('NFKC')
        .toLowerCase()
        .split(/[^\p{L}\p{N}]+/u)
        .filter(Boolean);
      const feats =
        tokens.length === 1 ? tokens : tokens.slice(1).map((t, i) => `${tokens[i]} ${t}`);
      const votes = new Array<number>(64).fill(0);
      for (const f of feats) {
        let h = 0xcbf29ce484222325n;
        for (const byte of Buffer.from(f, 'utf8'))
          h = ((h ^ BigInt(byte)) * 0x100000001b3n) & (2n ** 64n - 1n);
        for (let b = 0; b < 64; b++) votes[b]! += (h >> BigInt(63 - b)) & 1n ? 1 : -1;
      }
      return BigInt(`0b${votes.map((v) => (v > 0 ? 1 : 0)).join('')}`)
        .toString(16)
        .padStart(16, '0');
    };
    const texts = [
      'Explain step by step how to reverse a linked list.',
      'Über-naïve café prompts — mit Umlauten und 数字 123',
      'You are a helpful assistant. You are a helpful assistant.',
      'one two',
      'a b a b a b c',
    ];
    for (const t of texts) expect(simhash(t)).toBe(reference(t));
    // One token pair is one feature: the fingerprint is its FNV-1a 64 (published value).
    expect(simhash('Hello, World!')).toBe('779a65e7023cd2e7');
  });

  it('ignores case and punctuation differences entirely', () => {
    expect(simhash('Reverse a LINKED list, please!')).toBe(simhash('reverse a linked list please'));
  });

  it('puts near-duplicate long prompts close and unrelated prompts far', () => {
    const system =
      'You are an expert software engineer. Think carefully and explain your reasoning before answering. ' +
      'Always write idiomatic, well-tested code, point out edge cases, and keep answers concise. ' +
      'When asked about performance, reason about complexity and memory. When unsure, say so plainly. ' +
      'Format code in fenced blocks and name the language. Prefer standard library solutions. ';
    const a = simhash(`${system} Task: implement binary search over a sorted array of integers.`);
    const b = simhash(`${system} Task: implement merge sort over a linked list of strings.`);
    const c = simhash('What is the capital of France and what is its population these days?');
    expect(hammingHex(a, b)).toBeLessThanOrEqual(8);
    expect(hammingHex(a, c)).toBeGreaterThan(16);
  });

  it('counts bits', () => {
    expect(popcount32(0)).toBe(0);
    expect(popcount32(0xffffffff)).toBe(32);
    expect(popcount32(0b1011)).toBe(3);
    expect(hammingHex('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingHex('0000000000000001', '8000000000000000')).toBe(2);
  });
});

describe('canonicalFingerprint', () => {
  it('lower-cases 16 hex digits and refuses anything else', () => {
    expect(canonicalFingerprint('0123456789ABCDEF')).toBe('0123456789abcdef');
    expect(canonicalFingerprint('0123456789abcdef')).toBe('0123456789abcdef');
    for (const bad of ['xyz', '', '0123456789abcde', '0123456789abcdef0', '0123456789abcdeg'])
      expect([bad, canonicalFingerprint(bad)]).toEqual([bad, null]);
  });
});
