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
