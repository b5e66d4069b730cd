import { createsSchema, inOrderGroups } from '../../../src/platform/migrations';

const m = (text: string) => ({ text });

describe('inOrderGroups', () => {
  it('keeps runs of schema statements together and any other statement alone, in order', () => {
    const files = [
      m('CREATE CONSTRAINT a IF NOT EXISTS FOR (n:A) REQUIRE n.id IS UNIQUE'),
      m('// why\nCREATE INDEX b IF NOT EXISTS FOR (n:B) ON (n.x)'),
      m('MATCH (n:A) SET n.x = 1'),
      m('create text index c if not exists for (n:C) on (n.y)'),
      m('DROP INDEX b IF EXISTS'),
      m('CALL db.awaitIndexes()'),
    ];
    expect(inOrderGroups(files).map((g) => g.map((f) => files.indexOf(f)))).toEqual([
      [0, 1],
      [2],
      [3, 4],
      [5],
    ]);
  });

  it('gives no group for nothing pending', () => {
    expect(inOrderGroups([])).toEqual([]);
  });
});

describe('createsSchema', () => {
  it('finds the statement that creates an index or constraint by its name, and no other', () => {
    expect(createsSchema('CREATE INDEX b IF NOT EXISTS FOR (n:B) ON (n.x)', 'b')).toBe(true);
    expect(createsSchema('// why\ncreate text index c for (n:C) on (n.y)', 'c')).toBe(true);
    expect(
      createsSchema(
        'CREATE CONSTRAINT a_id IF NOT EXISTS FOR (n:A) REQUIRE n.id IS UNIQUE',
        'a_id',
      ),
    ).toBe(true);
    expect(createsSchema('CREATE INDEX b_2 FOR (n:B) ON (n.x)', 'b')).toBe(false);
    expect(createsSchema('DROP INDEX b IF EXISTS', 'b')).toBe(false);
    expect(createsSchema('MATCH (n:INDEX) RETURN n', 'b')).toBe(false);
  });
});
