import { inOrderGroups } from '../../../src/platform/migrations';

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
