import {
  features,
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
    expect(features(['a', 'b', 'c'])).toEqual(['a b', 'b c']);
    expect(features(['solo'])).toEqual(['solo']);
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
