/** The ad-hoc Cypher guard's decisions from query type and plan (pure). */
import {
  assertQueryText,
  assertReadOnly,
  calledProcedures,
  mentionsLoadCsv,
  nestingDepth,
  planOperators,
  procedureName,
} from '../../../src/cypher-console/guard';
import { AppError } from '../../../src/platform/errors';
import { rng } from '../../support/linkage-fixtures';

const plan = (...ops: string[]) => ({
  operatorType: ops[0] as string,
  children: ops.slice(1).map((op) => ({ operatorType: op })),
});

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof AppError
      ? `${err.code}:${String((err.details as { reason: string }).reason)}`
      : 'other';
  }
}

describe('assertReadOnly', () => {
  it('lets read-only plans through', () => {
    expect(
      codeOf(() => assertReadOnly('MATCH (n) RETURN n', 'r', plan('ProduceResults@neo4j'))),
    ).toBeUndefined();
  });

  it('refuses write, read-write, schema and DBMS query types', () => {
    for (const t of ['w', 'rw', 's', undefined]) {
      expect(codeOf(() => assertReadOnly('x', t, plan('ProduceResults')))).toBe(
        'write_not_allowed:not_read_only',
      );
    }
  });

  it('refuses LOAD CSV by plan operator or by text, not by comments or strings', () => {
    expect(codeOf(() => assertReadOnly('x', 'r', plan('ProduceResults', 'LoadCSV@neo4j')))).toBe(
      'write_not_allowed:load_csv',
    );
    expect(codeOf(() => assertReadOnly('load  csv FROM $u AS l RETURN l', 'r', plan('P')))).toBe(
      'write_not_allowed:load_csv',
    );
    expect(mentionsLoadCsv("RETURN 'LOAD CSV' AS s // LOAD CSV\n")).toBe(false);
    expect(mentionsLoadCsv('/* c */ LOAD\nCSV WITH HEADERS FROM $u AS l RETURN l')).toBe(true);
  });

  it('finds LOAD CSV between comment markers that sit in strings, and across Cypher-only whitespace', () => {
    // Stripping /*…*/ before strings once hid what lay between '/*' and '*/'.
    expect(mentionsLoadCsv("RETURN '/*' AS a LOAD CSV FROM $u AS l RETURN '*/' AS b")).toBe(true);
    expect(mentionsLoadCsv('RETURN "//" AS a LOAD CSV FROM $u AS l RETURN l')).toBe(true);
    // U+001C–U+001F, NBSP and the like separate words in Cypher, not in JavaScript's \s.
    for (const ws of ['\u001c', '\u001f', '\u00a0', '\u2003', '\u3000', '/**/']) {
      expect(mentionsLoadCsv(`LOAD${ws}CSV FROM $u AS l RETURN l`)).toBe(true);
    }
    expect(mentionsLoadCsv("RETURN '\\' LOAD CSV' AS s, `LOAD CSV` AS t")).toBe(false);
    expect(mentionsLoadCsv('RETURN 1 AS download_csv, 2 AS loadcsv')).toBe(false);
  });

  // A subquery nested in an expression is no operator of its own: Neo4j writes it back
  // into its operator's Details, string literals as written (quoted and escaped). What
  // Neo4j 5.26 plans for COLLECT { … } inside a CASE is one Projection with no child.
  const inDetails = (details: string, text = 'x') =>
    codeOf(() =>
      assertReadOnly(text, 'r', {
        operatorType: 'ProduceResults@neo4j',
        children: [{ operatorType: 'Projection@neo4j', arguments: { Details: details } }],
      }),
    );

  it("searches every operator's text for subqueries nested in expressions", () => {
    expect(
      inDetails(
        'CASE\n  WHEN rand() > $autoint_0 THEN $autolist_1\n  ELSE COLLECT { LOAD CSV FROM "http://127.0.0.1:1/x.csv" AS l RETURN l AS l }\nEND AS x',
      ),
    ).toBe('write_not_allowed:load_csv');
    expect(
      inDetails(
        '[x IN $autolist_2 | COLLECT { ResolvedCall(db.prepareForReplanning(timeOutSeconds  =  300 :: INTEGER),ArraySeq(),Vector(),true,false,false,false) RETURN $`autoint_1` AS z }] AS y',
      ),
    ).toBe('write_not_allowed:procedure');
    expect(
      inDetails(
        'COLLECT { ResolvedCall(db.labels() :: label :: STRING,ArraySeq(),Vector(),true,false,false,false) RETURN label } AS l',
      ),
    ).toBeUndefined();
  });

  it("lets 'load csv' through as a string or a name in a nested subquery", () => {
    const query = "RETURN COLLECT { RETURN 'load csv' AS s } AS x";
    expect(mentionsLoadCsv(query)).toBe(false);
    expect(inDetails('COLLECT { RETURN "load csv" AS s } AS x', query)).toBeUndefined();
    // a string with both quotes: Neo4j escapes the double ones (and every backslash)
    expect(inDetails('COLLECT { RETURN "it\'s \\"LOAD CSV\\" \\\\" AS s } AS x')).toBeUndefined();
    expect(inDetails('COLLECT { RETURN \'say "LOAD CSV"\' AS s } AS x')).toBeUndefined();
    expect(inDetails('COUNT { WITH 1 AS `load csv` RETURN `load csv` AS n } AS c')).toBeUndefined();
    expect(
      inDetails(
        'CASE WHEN $autoint_0 > 1 THEN [] ELSE COLLECT { RETURN "LOAD\u001cCSV FROM x" AS s } END AS x',
      ),
    ).toBeUndefined();
  });

  it('still refuses a real LOAD CSV in a nested subquery, next to strings and names that try to hide it', () => {
    for (const details of [
      'COLLECT { WITH "load csv" AS s LOAD CSV FROM "http://127.0.0.1:1/x.csv" AS l RETURN l AS l } AS x',
      // a string with both quotes, ending in an escaped backslash
      'COLLECT { WITH "a\'b\\"c\\\\" AS s LOAD CSV FROM $u AS l RETURN l AS l } AS x',
      // a name with a backtick in it is written with the backtick doubled
      'COLLECT { WITH 1 AS `a``` LOAD CSV WITH HEADERS FROM $u AS l RETURN l AS l } AS x',
      // comment markers: in a string, and (never written by Neo4j) outside one
      'COLLECT { WITH "/*" AS a LOAD CSV FROM $u AS l RETURN "*/" AS b } AS x',
      'COLLECT { WITH 1 AS a // LOAD CSV FROM $u AS l RETURN l AS l } AS x',
      'COLLECT { WITH 1 AS a /* LOAD CSV FROM $u AS l RETURN l AS l } AS x',
      // nested twice, and across Cypher-only whitespace
      'COUNT { WITH 1 AS a RETURN COLLECT { load\u00a0csv FROM $u AS l RETURN l AS l } AS b } AS c',
    ]) {
      expect([details, inDetails(details)]).toEqual([details, 'write_not_allowed:load_csv']);
    }
  });

  it('refuses LOAD CSV in the text of CALL and expression subqueries, however it is spelt', () => {
    for (const query of [
      'CALL { LOAD CSV FROM $u AS l RETURN l } RETURN l',
      'MATCH (a) CALL (a) { CALL { load csv from $u as l return l } RETURN l } RETURN l',
      "RETURN COLLECT { WITH 'load csv' AS s LOAD CSV FROM $u AS l RETURN l } AS x",
      'RETURN COUNT { CALL { lOaD/* c */cSv FROM $u AS l RETURN l } RETURN 1 } AS n',
      'RETURN EXISTS { CALL { WITH `x``` AS y LOAD\n// c\nCSV FROM $u AS l RETURN l } } AS e',
      "RETURN [x IN [1] | COLLECT { WITH '\\'' AS q LOAD\u3000CSV FROM $u AS l RETURN l }] AS y",
    ]) {
      expect([query, codeOf(() => assertReadOnly(query, 'r', plan('P')))]).toEqual([
        query,
        'write_not_allowed:load_csv',
      ]);
    }
    // and by its operator, however deep the subqueries nest it
    const deep = {
      operatorType: 'ProduceResults@neo4j',
      children: [{ operatorType: 'Apply@neo4j', children: [plan('Apply@neo4j', 'LoadCSV@neo4j')] }],
    };
    expect(codeOf(() => assertReadOnly('x', 'r', deep))).toBe('write_not_allowed:load_csv');
  });

  it('ends a line comment at \\r as Cypher does', () => {
    expect(mentionsLoadCsv('RETURN 1 AS x // c\rLOAD CSV FROM $u AS l RETURN l')).toBe(true);
  });

  it('refuses procedures the text calls, whatever the plan shows (a later Neo4j may render them otherwise)', () => {
    expect(
      codeOf(() =>
        assertReadOnly('RETURN COUNT { CALL db.prepareForReplanning() } AS c', 'r', plan('P')),
      ),
    ).toBe('write_not_allowed:procedure');
    expect(
      calledProcedures('CALL db.labels() YIELD label WITH label CALL db.info() YIELD id RETURN id'),
    ).toEqual(['db.labels', 'db.info']);
    expect(calledProcedures('CALL\u001cdb.info()')).toEqual(['db.info']);
    // subqueries, strings, properties and variables named call are no procedure calls
    for (const q of [
      'MATCH (a) CALL { WITH a RETURN 1 AS x } RETURN a',
      'CALL (a) { RETURN 1 AS x } RETURN 1',
      "RETURN 'CALL db.info()' AS s",
      'MATCH (r) RETURN r.call, r.callCount',
      'WITH 1 AS call RETURN count(*)',
    ]) {
      expect(calledProcedures(q)).toEqual([]);
    }
    expect(
      codeOf(() => assertReadOnly('CALL db.labels() YIELD label RETURN label', 'r', plan('P'))),
    ).toBeUndefined();
  });

  it('reads the called name as Cypher does: spaces and comments around the dots, backticked parts', () => {
    // Each was missed by a text check for `CALL name(` (review, 12-03); the plan's
    // ResolvedCall text then was the only check left for the nested one.
    for (const query of [
      'CALL db . info() YIELD id RETURN id',
      'CALL `db`.info() YIELD id RETURN id',
      'CALL `db.info`() YIELD id RETURN id',
      'CALL db.`info`() YIELD id RETURN id',
      'CALL /* c */ db /* c */ . // c\n info () YIELD id RETURN id',
      'CALL\u3000db\u001c.\u00a0info() YIELD id RETURN id',
      'RETURN COUNT { CALL db .info() YIELD id RETURN id } AS n',
      'RETURN COLLECT { CALL `db`.`info` YIELD id RETURN id } AS n',
      'RETURN EXISTS { call DB.INFO() YIELD id RETURN id } AS n',
    ]) {
      expect([query, codeOf(() => assertReadOnly(query, 'r', plan('P')))]).toEqual([
        query,
        'write_not_allowed:procedure',
      ]);
    }
    expect(calledProcedures('CALL `db`.`info`()')).toEqual(['db.info']);
    // a doubled backtick is one backtick of the name
    expect(calledProcedures('CALL `my``proc`()')).toEqual(['my`proc']);
    // a dotted name is a call without its parentheses too
    expect(calledProcedures('RETURN COUNT { CALL db.info YIELD id RETURN id } AS n')).toEqual([
      'db.info',
    ]);
  });

  it('lets allow-listed procedures through however they are spelt', () => {
    for (const query of [
      'CALL db . labels() YIELD label RETURN label',
      'CALL `db`.labels() YIELD label RETURN label',
      'CALL `db`.`schema`.`visualization`()',
      'CALL db /* the schema */ . schema . visualization()',
      'RETURN COUNT { CALL db .relationshipTypes() YIELD relationshipType RETURN 1 } AS n',
      'CALL db.propertyKeys',
    ]) {
      expect([query, codeOf(() => assertReadOnly(query, 'r', plan('P')))]).toEqual([
        query,
        undefined,
      ]);
    }
  });

  it('takes CALL subqueries, names and text that only look like calls for no procedure call', () => {
    for (const q of [
      'CALL { MATCH (n) RETURN n } RETURN n',
      'MATCH (a) CALL (a) { RETURN 1 AS x } RETURN x',
      'MATCH (a) CALL (a, b) { RETURN 1 AS x } RETURN x',
      'CALL /* c */ { RETURN 1 AS x } RETURN x',
      'OPTIONAL CALL { RETURN 1 AS x } RETURN x',
      'RETURN COUNT { CALL { RETURN 1 AS x } RETURN x } AS n',
      'MATCH (r) RETURN r.call, r . call, r.CALL',
      'WITH 1 AS call RETURN call',
      'WITH 1 AS `call` RETURN `call`',
      'RETURN `CALL db.info()` AS x, $call AS y',
      'RETURN \'CALL `db`.info()\' AS s, "call db . info()" AS t',
      'RETURN 1 // CALL db.info()\n',
      'RETURN 1 /* CALL db . info() */',
    ]) {
      expect([q, calledProcedures(q)]).toEqual([q, []]);
    }
    // a comment or a string cannot hide one either
    expect(calledProcedures("RETURN '/*' AS a CALL db.info() YIELD id RETURN '*/' AS b")).toEqual([
      'db.info',
    ]);
    expect(calledProcedures('RETURN "`" AS a CALL db.info() YIELD id RETURN "`" AS b')).toEqual([
      'db.info',
    ]);
  });

  it('refuses a query Neo4j gave no plan for', () => {
    expect(codeOf(() => assertReadOnly('MATCH (n) RETURN n', 'r', undefined))).toBe(
      'write_not_allowed:no_plan',
    );
    expect(codeOf(() => assertReadOnly('MATCH (n) RETURN n', 'r', false))).toBe(
      'write_not_allowed:no_plan',
    );
  });

  const call = (details: unknown) => ({
    operatorType: 'ProduceResults@neo4j',
    children: [
      {
        operatorType: 'Apply@neo4j',
        children: [{ operatorType: 'ProcedureCall@neo4j', arguments: { Details: details } }],
      },
    ],
  });

  it('refuses commands but schema listings, wherever they sit in the plan', () => {
    for (const op of [
      'ShowTransactions',
      'TerminateTransactions',
      'ShowSettings',
      'ShowFutureThing',
    ]) {
      expect(
        codeOf(() => assertReadOnly('x', 'r', plan('ProduceResults@neo4j', `${op}@neo4j`))),
      ).toBe('write_not_allowed:command');
    }
    for (const op of ['ShowIndexes', 'ShowConstraints', 'ShowFunctions', 'ShowProcedures']) {
      expect(
        codeOf(() => assertReadOnly('x', 'r', plan('ProduceResults@neo4j', `${op}@neo4j`))),
      ).toBeUndefined();
    }
  });

  it('calls only allow-listed procedures, named by their resolved signature', () => {
    expect(
      codeOf(() => assertReadOnly('x', 'r', call('db.labels() :: (label :: STRING)'))),
    ).toBeUndefined();
    expect(
      codeOf(() =>
        assertReadOnly('x', 'r', call('db.schema.visualization() :: (nodes :: LIST<NODE>)')),
      ),
    ).toBeUndefined();
    for (const details of [
      'db.prepareForReplanning() :: ()',
      'db.labelsX() :: (x :: STRING)',
      'db.labels',
      undefined,
      42,
    ]) {
      expect(codeOf(() => assertReadOnly('x', 'r', call(details)))).toBe(
        'write_not_allowed:procedure',
      );
    }
    expect(
      procedureName({
        operatorType: 'ProcedureCall',
        arguments: { Details: 'db.info() :: (id :: STRING)' },
      }),
    ).toBe('db.info');
  });

  it('lists nested operators', () => {
    expect(
      planOperators({
        operatorType: 'A',
        children: [{ operatorType: 'B', children: [{ operatorType: 'C' }] }],
      }),
    ).toEqual(['A', 'B', 'C']);
    expect(planOperators(false)).toEqual([]);
  });
});

describe('nestingDepth', () => {
  it('counts brackets and runs of prefix operators in the code only', () => {
    expect(nestingDepth('MATCH (a)-[r]->(b) RETURN a')).toBe(1);
    expect(nestingDepth(`RETURN ${'['.repeat(400)}${']'.repeat(400)} AS x`)).toBe(400);
    expect(nestingDepth(`RETURN ${'NOT '.repeat(400)}true AS x`)).toBe(400);
    expect(nestingDepth(`RETURN ${'- '.repeat(50)}1 AS x`)).toBe(50);
    expect(nestingDepth('RETURN NOT (NOT [1]) AS x')).toBe(2);
    // a chain of binary operators, words with NOT inside, comments and strings are no nesting
    expect(nestingDepth(`RETURN 1${' + 1'.repeat(500)} AS x`)).toBe(1);
    expect(nestingDepth('WITH 1 AS nothing, 2 AS knot RETURN nothing - knot')).toBe(1);
    expect(nestingDepth(`RETURN '${'['.repeat(400)}' AS s // ${'('.repeat(400)}\n`)).toBe(0);
  });

  it('counts CASE … END, and case or end naming a key, a property or a variable as no level', () => {
    // Review, 12-04: 400 nested CASEs failed in Neo4j's parser ("Ignored"), a 500.
    let searched = '1';
    for (let i = 0; i < 400; i++) searched = `CASE WHEN true THEN ${searched} END`;
    expect(nestingDepth(`RETURN ${searched} AS x`)).toBe(400);
    let simple = '1';
    for (let i = 0; i < 3; i++) simple = `case ${simple} when 1 then 1 end`;
    expect(nestingDepth(`RETURN ${simple} AS x`)).toBe(3);
    // side by side, each closed by its END
    expect(nestingDepth(`RETURN ${'CASE WHEN true THEN 1 END, '.repeat(100)}1 AS x`)).toBe(1);
    expect(nestingDepth('RETURN [CASE WHEN true THEN (1) END] AS x')).toBe(3);
    // a CASE no END closes within its brackets is no level
    expect(nestingDepth(`RETURN ${'[CASE '.repeat(3)}${']'.repeat(3)}, [1] AS x`)).toBe(3);
    expect(nestingDepth(`RETURN ${'[CASE ]'.repeat(100)} AS x`)).toBe(1);
    expect(nestingDepth('RETURN [CASE WHEN true THEN [CASE ] END] AS x')).toBe(3);
    // keys, properties and parameters are no CASE and close none
    expect(nestingDepth('WITH {case: 1, end: 2} AS m RETURN m.case, m.end, $case AS x')).toBe(1);
    expect(nestingDepth('RETURN CASE WHEN true THEN {end: 1} END AS x')).toBe(2);
    expect(nestingDepth('RETURN CASE WHEN true THEN m.end END AS x')).toBe(1);
    // an END with no CASE open in its brackets closes nothing
    expect(nestingDepth('RETURN CASE WHEN true THEN [end] END AS x')).toBe(2);
  });

  it('a case no END closes (a variable, a label) is no level; a cast after END is no key', () => {
    // Review, 12-05: each use of a variable `case` opened a level nothing closed, so an
    // honest query using it 64 times was refused.
    expect(nestingDepth(`UNWIND [1] AS case RETURN case${' + case'.repeat(70)} AS x`)).toBe(1);
    expect(nestingDepth(`MATCH (n) WHERE ${'n:Case OR '.repeat(70)}true RETURN n`)).toBe(1);
    expect(
      nestingDepth(
        'MATCH (n) WHERE n:Case RETURN CASE WHEN true THEN CASE 1 WHEN 1 THEN 2 END END',
      ),
    ).toBe(2);
    let cast = '1';
    for (let i = 0; i < 3; i++) cast = `CASE WHEN true THEN ${cast} END :: INTEGER`;
    expect(nestingDepth(`RETURN ${cast} AS x`)).toBe(3);
    expect(nestingDepth(`RETURN ${'CASE WHEN true THEN 1 END :: INTEGER, '.repeat(70)}1`)).toBe(1);
  });
});

describe('assertQueryText', () => {
  const reasonOf = (text: string) => codeOf(() => assertQueryText(text));

  it('refuses CALL { … } IN TRANSACTIONS in its forms with 400, reason in_transactions', () => {
    for (const q of [
      'UNWIND [1] AS x CALL (x) { RETURN x AS y } IN TRANSACTIONS RETURN y',
      'CALL { MATCH (n) RETURN n } in transactions of 10 rows RETURN n',
      'CALL { RETURN 1 AS a } IN 3 CONCURRENT TRANSACTIONS RETURN a',
      'CALL { RETURN 1 AS a } IN $n CONCURRENT /* c */ TRANSACTIONS RETURN a',
      // the concurrency as any expression (review, 12-05: these passed, and Neo4j's refusal
      // in the read transaction was a 500)
      'CALL { RETURN 1 AS a } IN (2) CONCURRENT TRANSACTIONS RETURN a',
      'CALL { RETURN 1 AS a } IN 1+1 CONCURRENT TRANSACTIONS RETURN a',
      'CALL { RETURN 1 AS a } IN $p.n CONCURRENT TRANSACTIONS RETURN a',
      'CALL { RETURN 1 AS a } IN CASE WHEN true AND false THEN 1 ELSE 2 END CONCURRENT TRANSACTIONS RETURN a',
    ]) {
      expect([q, reasonOf(q)]).toEqual([q, 'bad_request:in_transactions']);
    }
    // a list called transactions is no such clause
    expect(
      reasonOf('UNWIND $t AS transactions MATCH (a) WHERE a.id IN transactions RETURN a'),
    ).toBeUndefined();
    // a subquery expression IN a list, then clauses that name transactions as properties
    for (const q of [
      'MATCH (a) WHERE COUNT { (a)--() } IN [1, 2] RETURN a.transactions',
      'MATCH (a) WITH a WHERE EXISTS { (a)--() } IN [true] RETURN a',
      // a name or an operand called transactions after a map IN a list (review, 12-06)
      'RETURN {a: 1} IN [{a: 1}] AS transactions',
      'WITH 1 AS transactions RETURN {a:1} IN [] AND transactions > 0 AS x',
      'WITH 1 AS transactions RETURN {a:1} IN [] OR 2 = transactions AS x',
      // a list called transactions after a map or a map projection: only a subquery's `}` counts
      'WITH [{a: 1}] AS transactions RETURN {a: 1} IN transactions AS found',
      'MATCH (a) WITH a, [] AS transactions RETURN a {.id} IN transactions AS found',
      'WITH [] AS transactions RETURN CASE WHEN {a:1} IN [] THEN transactions ELSE 0 END AS x',
    ]) {
      expect([q, reasonOf(q)]).toEqual([q, undefined]);
    }
  });

  it('finds IN TRANSACTIONS as a forward scan from each `} IN` does, in one pass', () => {
    // The scan ran from every `} IN` to the end: 20,000 characters of `{}IN` held the
    // service's thread for about a second (review). The one pass must answer as it did.
    const WORDS = '{ } } ( ) [ ] IN IN TRANSACTIONS TRANSACTIONS RETURN ; . x CALL CALL'.split(' ');
    // the `}` ends CALL { … } or CALL (…) { … } (or closes nothing): only then is it a subquery
    const closesCall = (toks: string[], close: number): boolean => {
      // any bracket closes any, as in Neo4j: a stack over the text before `end`
      const openAt = (end: number): number => {
        const stack: number[] = [];
        let opener = -1;
        for (let j = 0; j <= end; j++) {
          const t = toks[j] as string;
          if ('([{'.includes(t)) stack.push(j);
          else if (')]}'.includes(t)) opener = stack.pop() ?? -1;
        }
        return opener;
      };
      const open = openAt(close);
      if (open < 0) return true;
      if (toks[open - 1] !== ')') return toks[open - 1] === 'CALL';
      const scope = openAt(open - 1);
      return scope < 0 || toks[scope - 1] === 'CALL';
    };
    const forward = (toks: string[], from: number): boolean => {
      let depth = 0;
      for (let j = from; j < toks.length; j++) {
        const t = toks[j] as string;
        if ('([{'.includes(t)) depth++;
        else if (')]}'.includes(t)) {
          if (depth === 0) return false;
          depth--;
        } else if (t === ';' && depth === 0) return false;
        else if (depth === 0 && /^[A-Z]/.test(t) && toks[j - 1] !== '.') {
          if (t === 'TRANSACTIONS') return true;
          if (t === 'RETURN' || t === 'CALL') return false;
        }
      }
      return false;
    };
    const r = rng(7);
    let refusedCount = 0;
    for (let k = 0; k < 8000; k++) {
      const toks = Array.from({ length: 2 + Math.floor(r() * 14) }, () => {
        return WORDS[Math.floor(r() * WORDS.length)] as string;
      });
      const expected = toks.some(
        (t, i) =>
          t === 'IN' && toks[i - 1] === '}' && forward(toks, i + 1) && closesCall(toks, i - 1),
      );
      const q = toks.join(' ');
      const got = reasonOf(q);
      expect([q, got]).toEqual([q, expected ? 'bad_request:in_transactions' : undefined]);
      if (expected) refusedCount++;
    }
    expect(refusedCount).toBeGreaterThan(50); // both answers were exercised
    expect(reasonOf(`RETURN ${'{}IN'.repeat(4_998)}`)).toBeUndefined();
    expect(reasonOf(`RETURN ${'{}IN'.repeat(4_998)} TRANSACTIONS`)).toBeUndefined(); // maps
    expect(reasonOf(`${'CALL {} IN '.repeat(1_800)}TRANSACTIONS`)).toBe(
      'bad_request:in_transactions',
    );
  });

  it('refuses any unicode escape with 400, reason unicode_escape (Neo4j decodes them first)', () => {
    for (const q of [
      'U\\u0053E other MATCH (n) RETURN n',
      'M\\uu0041TCH (n) RETURN n',
      "RETURN 'a\\u0027, COUNT { CALL db.info() YIELD id RETURN id } AS n //'",
      'RETURN 1 AS x // \\U0041',
      // whatever follows the u: a parser that reads the four characters with Java's
      // parseInt would take a sign or other Unicode digits too (review, 12-04)
      'U\\u+053E other MATCH (n) RETURN n',
      'U\\u\uff10\uff10\uff15\uff13E other MATCH (n) RETURN n',
    ]) {
      expect([q, reasonOf(q)]).toEqual([q, 'bad_request:unicode_escape']);
    }
    expect(reasonOf('RETURN "a\\\\b" AS s, "\\n" AS t')).toBeUndefined();
  });

  it('refuses a USE clause whatever it names, with 403 write_not_allowed, reason use', () => {
    for (const q of [
      'USE neo4j MATCH (n) RETURN n',
      'use system RETURN 1 AS x',
      'CALL { USE other RETURN 1 AS one } RETURN one',
      'USE graph.byName($g) RETURN 1 AS x',
      'USE `other db` RETURN 1 AS x',
      'RETURN 1 AS x UNION USE other RETURN 2 AS x',
      'CYPHER runtime=slotted USE other RETURN 1 AS x',
      'USE/**/other RETURN 1 AS x',
      // found by review on 12-04: Cypher 5's grammar takes a graph reference in brackets
      'USE (other) MATCH (n) RETURN n LIMIT 10',
      'USE (graph.byName($g)) MATCH (n) RETURN n',
      'use(other) RETURN 1 AS x',
      // found by review on 12-06: a graph named by an operator word
      'USE and.other MATCH (n) RETURN n',
      'USE or MATCH (n) RETURN n',
      'USE `and` RETURN 1 AS x',
      'USE or SHOW INDEXES',
      'USE as SHOW FUNCTIONS',
      'USE starts WITH 1 AS x RETURN x',
      'EXPLAIN USE other MATCH (n) RETURN n',
      'CYPHER 5 runtime=slotted USE other RETURN 1 AS x',
      'MATCH (n) RETURN n UNION ALL USE other MATCH (n) RETURN n',
      'CALL () { USE other RETURN 1 AS one } RETURN one',
      // after an importing WITH, which Neo4j 5 takes as the query's graph (a second review)
      'WITH * USE other MATCH (n) RETURN n',
      'UNWIND [1] AS x CALL { WITH x USE other MATCH (n) RETURN n } RETURN n',
      'UNWIND [1] AS x CALL { WITH x AS x, 2 AS y USE (other) RETURN 1 AS n } RETURN n',
      'UNWIND [1] AS x RETURN EXISTS { WITH x /* c */ USE other MATCH (n) RETURN n } AS e',
      'EXPLAIN CYPHER 5 USE other RETURN 1 AS x',
      // a bracketed name is an importing item too; distinct, not and case may be variables
      'UNWIND [1] AS x CALL { WITH (x) AS x USE other MATCH (n) RETURN n } RETURN n',
      'UNWIND [1] AS x CALL { WITH ((x)) USE other MATCH (n) RETURN n } RETURN n',
      'UNWIND [1] AS x CALL { WITH *, ( /*c*/ x ) AS x USE other RETURN 1 AS a } RETURN a',
      'UNWIND [1] AS x RETURN COUNT { WITH (x), (x) AS y USE other MATCH (n) RETURN n } AS c',
      'UNWIND [1] AS distinct CALL { WITH distinct USE other RETURN 1 AS a } RETURN a',
      'UNWIND [1] AS not CALL { WITH not USE graph.byName($g) RETURN 1 AS a } RETURN a',
      'UNWIND [1] AS case CALL { WITH case USE (other) SHOW INDEXES } RETURN 1',
      // a third review: the optional GRAPH word, a name Neo4j reads whole, NODETACH
      'UNWIND [1] AS distinct CALL { WITH distinct USE GRAPH other MATCH (n) RETURN n } RETURN n',
      'UNWIND [1] AS case CALL { WITH case USE graph (other) RETURN 1 AS a } RETURN a',
      "UNWIND [1] AS not CALL { WITH not USE GRAPH graph.byName('o') RETURN 1 AS a } RETURN a",
      'UNWIND [1] AS distinct CALL { WITH distinct USE pay\u20ac MATCH (n) RETURN n } RETURN n',
      'MATCH (distinct) CALL { WITH distinct USE other NODETACH DELETE distinct } RETURN 1 AS a',
    ]) {
      expect([q, reasonOf(q)]).toEqual([q, 'write_not_allowed:use']);
    }
    // Found by review on 12-07: characters Neo4j keeps in a name (format, currency and
    // control characters) split the importing item here, so the
    // USE after it was not seen as following a WITH list. U+FEFF and U+180E were whitespace
    // here; to Neo4j they are a name's too.
    for (const c of [
      '\u00ad', // soft hyphen
      '\u200b', // zero-width space
      '\u200e', // left-to-right mark
      '\u2060', // word joiner
      '\ufeff',
      '\u180e',
      '\u0001',
      '\u0085',
      '\u00a3', // £
      '\u2e2f', // vertical tilde
    ]) {
      const q = `WITH 1 AS \`a${c}\` CALL { WITH a${c} USE other RETURN 1 AS y } RETURN y`;
      expect([c, reasonOf(q)]).toEqual([c, 'write_not_allowed:use']);
    }
    // U+0085 is whitespace to Cypher 25, which an external Neo4j may run (a second review)
    expect(reasonOf('CYPHER 25 \u0085USE other RETURN 1 AS x')).toBe('write_not_allowed:use');
    expect(reasonOf('WITH 1 AS a\u0085USE other RETURN 1 AS x')).toBe('write_not_allowed:use');
    // a property, a map key, an operand or a quoted name called use is no clause
    for (const q of [
      'WITH 1 AS use RETURN use AS x',
      'MATCH (n) RETURN n.use AS x',
      'RETURN {use: 1} AS m',
      'WITH [1] AS use RETURN 1 IN use AS x',
      'WITH true AS use RETURN use AND true AS x, use OR false AS y, use IS NULL AS z',
      'WITH [1] AS use RETURN use IN [use] AS x',
      // found by review on 12-06: STARTS WITH and ENDS WITH end in a clause word
      "WITH 'abc' AS use RETURN use STARTS WITH 'a' AS x, use ENDS WITH 'c' AS y",
      "WITH 'abc' AS use WHERE use STARTS WITH 'a' RETURN use",
      'WITH 1 AS use WITH use AS use RETURN use',
      'MATCH (n) RETURN DISTINCT use',
      'RETURN count(DISTINCT use) AS n',
      // after the options before a query, as anywhere (a second review)
      'CYPHER runtime=slotted WITH 1 AS use RETURN use',
      'CYPHER runtime=slotted RETURN 1 AS use ORDER BY use',
      'WITH 1 AS a, 2 AS use RETURN a, use',
      'WITH 1 AS a WITH a, a AS use RETURN use',
      'UNWIND [1] AS use WITH DISTINCT use RETURN use',
      'UNWIND [1] AS use WITH DISTINCT use AS u WHERE u > 0 RETURN u',
      'UNWIND [1] AS use WITH DISTINCT use ORDER BY use LIMIT 1 MATCH (n) RETURN n',
      'UNWIND [true] AS use WITH NOT use AS u RETURN u',
      'UNWIND [1] AS use WITH use, NOT use IS NULL AS known RETURN known',
      "UNWIND [1] AS use WITH CASE use WHEN 1 THEN 'a' ELSE 'b' END AS k RETURN k",
      "UNWIND [1] AS use RETURN 'a' STARTS WITH CASE use WHEN 1 THEN 'a' END AS s",
      "UNWIND ['a'] AS use WITH DISTINCT use STARTS WITH 'a' AS s RETURN s",
      'UNWIND [1] AS use WITH DISTINCT use AS match RETURN match',
      'WITH 1 AS `use` RETURN `use` LIMIT 1',
      "RETURN 'USE other' AS s // USE other\n",
    ]) {
      expect([q, reasonOf(q)]).toEqual([q, undefined]);
    }
  });
});
