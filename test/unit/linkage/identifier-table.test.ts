import { IdentifierTable, IdentifierTableBuilder } from '../../../src/linkage/identifier-table';
import { createRng } from '../../../src/linkage/rng';
import { IDENTIFIER_KINDS, type Identifier, type IdentifierKind } from '../../../src/linkage/types';

describe('IdentifierTable', () => {
  it('gives back every kind and value in order, past its first capacities', () => {
    const rng = createRng(5);
    const samples = ['10.0.0.1', 'bücher.example', '東京.jp', 'emoji-😀', '', 'a1b2c3d4e5f60718'];
    const list: Identifier[] = [];
    // 5,000 identifiers (the builder starts at 1,024) and ~600 KB of values (16 KiB).
    for (let i = 0; i < 5_000; i++) {
      const kind = IDENTIFIER_KINDS[Math.floor(rng() * IDENTIFIER_KINDS.length)] as IdentifierKind;
      const base = samples[i % samples.length] as string;
      list.push({ kind, value: `${base}${'x'.repeat(Math.floor(rng() * 200))}${i}` });
    }
    const table = IdentifierTable.of(list);
    expect(table.length).toBe(list.length);
    expect(table.toArray()).toEqual(list);
    expect(table.at(1)).toEqual(list[1]);
    expect(table.kind(4_999)).toBe(list[4_999]?.kind);
    expect(table.value(2)).toBe(list[2]?.value);
  });

  it('grows its buffer past twice its size for one long value, and starts anew after finish', () => {
    const b = new IdentifierTableBuilder();
    const long = 'é'.repeat(40_000); // 80,000 bytes, over twice the first 16 KiB
    expect(b.add('org', 'a')).toBe(0);
    expect(b.add('email_domain', long)).toBe(1);
    expect(b.add('org', '')).toBe(2);
    const t = b.finish();
    expect(t.value(1)).toBe(long);
    expect(t.toArray().map((x) => x.value.length)).toEqual([1, 40_000, 0]);
    expect(b.length).toBe(0);
    b.add('ip', '10.0.0.2');
    expect(b.finish().toArray()).toEqual([{ kind: 'ip', value: '10.0.0.2' }]);
    expect(t.value(0)).toBe('a'); // the first table keeps its own columns
  });

  it('returns each index from add, an empty value included', () => {
    const b = new IdentifierTableBuilder();
    expect(b.add('ip', '10.0.0.1')).toBe(0);
    expect(b.add('org', '')).toBe(1);
    expect(b.add('ip', '10.0.0.1')).toBe(2); // no de-duplication: extract interns first
    expect(b.length).toBe(3);
    const t = b.finish();
    expect(t.toArray()).toEqual([
      { kind: 'ip', value: '10.0.0.1' },
      { kind: 'org', value: '' },
      { kind: 'ip', value: '10.0.0.1' },
    ]);
  });

  it('throws on an index out of range and on an unknown kind', () => {
    const t = IdentifierTable.of([{ kind: 'device', value: 'd' }]);
    for (const bad of [-1, 1, 0.5, NaN]) {
      expect(() => t.kind(bad)).toThrow(RangeError);
      expect(() => t.value(bad)).toThrow(/out of range \(1 identifiers\)/);
    }
    expect(() => new IdentifierTableBuilder().add('phone' as IdentifierKind, 'x')).toThrow(
      "unknown identifier kind 'phone'",
    );
    expect(IdentifierTable.of([]).length).toBe(0);
  });

  it('stores a lone surrogate as U+FFFD, as documented (Bolt never delivers one)', () => {
    expect(IdentifierTable.of([{ kind: 'org', value: 'a\ud800b' }]).value(0)).toBe('a\ufffdb');
  });
});
