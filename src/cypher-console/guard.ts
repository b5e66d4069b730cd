/**
 * Decides whether an ad-hoc query may run, from Neo4j's own plan of it (EXPLAIN):
 * - its query type must be "r" (read only: not "rw", "w" or "s" for schema and
 *   DBMS work; writing procedures plan as "w");
 * - no LOAD CSV anywhere (it reads files and URLs even in a read transaction);
 * - commands other than schema listings are refused: SHOW TRANSACTIONS (other
 *   sessions' queries and parameters), TERMINATE TRANSACTIONS and SHOW SETTINGS
 *   all plan as "r", and the service uses one database identity for everyone;
 * - procedures are allow-listed: several that plan as "r" still act on the
 *   server (db.clearQueryCaches is "s", but db.prepareForReplanning and
 *   db.resampleOutdatedIndexes are "r").
 * A subquery inside an expression (COLLECT {…}, COUNT {…}, EXISTS {…} in a CASE or a
 * list comprehension) is no operator of its own: it shows only in its operator's
 * Details text, as "ResolvedCall(db.info() …" or "LOAD CSV FROM …". So every
 * operator's text is searched too, and a query with no plan is refused.
 * The read-only session and read transaction remain the second line; this is
 * the first and gives a clear code before anything runs.
 */
import { AppError } from '../platform/errors';

export interface PlanNode {
  operatorType: string;
  /** for ProcedureCall, Details is the resolved signature, e.g. "db.labels() :: (label :: STRING)" */
  arguments?: { Details?: unknown };
  children?: PlanNode[];
}

/**
 * What Cypher takes for whitespace: its grammar's list, not JavaScript's \s (which holds
 * U+FEFF, a name's character to Neo4j, as is U+180E). Checked against the embedded 5.26's
 * lexer for every code point (review, 12-07). With U+0085, whitespace to Cypher 25 (an
 * external Neo4j may run it) and a name's character to Cypher 5: split here, a name can
 * only show a keyword Neo4j does not see, never hide one.
 */
const WS =
  '[\\t\\n\\v\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
/**
 * The characters of an unescaped name or keyword as Neo4j's lexer reads them (Java's
 * identifier parts): letters, digits and `_`, but also `$`, currency signs, format
 * characters (a soft hyphen, a zero-width space) and the control characters that are not
 * whitespace (U+0085 aside: see WS), and U+2E2F (a letter to Java, not in ID_Continue).
 * Checked against the embedded 5.26's lexer for every code point (review, 12-07): each it
 * keeps inside a name is in here, and none it reads there as whitespace or punctuation;
 * those in here it refuses (newer letters) fail the query anyway, as does any character
 * beyond the BMP outside quotes (so these checks go by UTF-16 units). At a word's start
 * Neo4j reads U+00AD as a dash and `$` as a parameter's: a keyword glued after either is
 * a syntax error there, not a clause. Narrower, `a\u00ad` was split in two here, and a
 * `USE` after `WITH a\u00ad` was not seen as following a WITH list.
 */
const NAME_CHARS =
  '\\p{ID_Continue}$\\p{Sc}\\p{Cf}\\u0000-\\u0008\\u000e-\\u001b\\u007f-\\u0084\\u0086-\\u009f\\u2e2f';
const LOAD_CSV = new RegExp(`\\bLOAD${WS}+CSV\\b`, 'i');

/**
 * The query with its comments and quoted parts (strings, `identifiers`) blanked, read
 * left to right in one pass: a comment marker inside a string is text, and a quote
 * inside a comment is comment. With `comments` false only quoted parts are blanked.
 * A quoted part becomes `quoted` (a comment always a space).
 */
export function codeOnly(text: string, comments = true, quoted = ' '): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    const two = comments ? text.slice(i, i + 2) : '';
    let end: number;
    if (two === '//') {
      // Cypher ends a line comment at \r as well as \n
      const eol = /[\r\n]/g;
      eol.lastIndex = i;
      end = eol.exec(text)?.index ?? text.length;
    } else if (two === '/*') {
      end = text.indexOf('*/', i + 2);
      end = end < 0 ? text.length : end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      end = i + 1;
      while (end < text.length && text[end] !== c) end += c !== '`' && text[end] === '\\' ? 2 : 1;
      end = Math.min(end + 1, text.length);
      out += quoted;
      i = end;
      continue;
    } else {
      out += c;
      i++;
      continue;
    }
    out += ' ';
    i = end;
  }
  return out;
}

/** Text check before planning: comments and string literals cannot hide or fake it. */
export function mentionsLoadCsv(text: string): boolean {
  return LOAD_CSV.test(codeOnly(text));
}

/**
 * The same check of an operator's Details, where a nested subquery is written back with
 * its strings as literals: `RETURN 'load csv'` there is no LOAD CSV. Neo4j quotes every
 * string it writes so that it reads back whole (backslashes doubled, a double quote
 * escaped when both kinds occur) and doubles backticks in names, so blanking quoted
 * parts hides no clause. It writes no comments: a comment marker there stays text.
 */
function detailsMentionLoadCsv(details: string): boolean {
  return LOAD_CSV.test(codeOnly(details, false));
}

const WS_CHAR = new RegExp(`^${WS}$`);
/** A character of an unescaped name or keyword: see NAME_CHARS. */
const WORD_CHAR = new RegExp(`[${NAME_CHARS}]`, 'u');

/**
 * A word (keyword or unescaped name), a backticked name (unescaped: doubled backticks
 * read as one), a string literal, or any other single character. Comments and
 * whitespace separate tokens and are dropped.
 */
interface Token {
  kind: 'word' | 'quoted' | 'string' | 'other';
  text: string;
}

/** The query as Cypher's lexer reads it, as far as a procedure call's name needs. */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    const two = text.slice(i, i + 2);
    if (two === '//') {
      const eol = /[\r\n]/g;
      eol.lastIndex = i;
      i = eol.exec(text)?.index ?? text.length;
    } else if (two === '/*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (WS_CHAR.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== c) end += text[end] === '\\' ? 2 : 1;
      end = Math.min(end + 1, text.length);
      out.push({ kind: 'string', text: text.slice(i, end) });
      i = end;
    } else if (c === '`') {
      let name = '';
      let end = i + 1;
      for (;;) {
        const close = text.indexOf('`', end);
        if (close < 0) {
          name += text.slice(end);
          end = text.length;
          break;
        }
        name += text.slice(end, close);
        if (text[close + 1] !== '`') {
          end = close + 1;
          break;
        }
        name += '`';
        end = close + 2;
      }
      out.push({ kind: 'quoted', text: name });
      i = end;
    } else if (WORD_CHAR.test(c)) {
      let end = i + 1;
      while (end < text.length && WORD_CHAR.test(text[end] as string)) end++;
      out.push({ kind: 'word', text: text.slice(i, end) });
      i = end;
    } else {
      // one UTF-16 unit: beyond the BMP, Neo4j 5.26 takes no character for a name's
      out.push({ kind: 'other', text: c });
      i++;
    }
  }
  return out;
}

const isName = (t: Token | undefined): boolean => t?.kind === 'word' || t?.kind === 'quoted';
const isWord = (t: Token | undefined, word: string): boolean =>
  t?.kind === 'word' && t.text.toUpperCase() === word;

/**
 * Procedures the query text calls, wherever they sit: a check that does not depend on how
 * Neo4j renders a plan. After the keyword CALL (not a property `.call`) comes the name:
 * words or backticked names joined by dots, with whitespace and comments allowed around
 * them, so `CALL db . info()`, ``CALL `db`.info()`` and ``CALL `db.info`()`` are all read as
 * db.info. `CALL {` and `CALL (a) {` are subqueries, not procedures. A one-part name is
 * a call only when `(` follows it (`WITH 1 AS call RETURN count(*)` has none); a dotted
 * one is a call with or without its parentheses. Comments and strings are no tokens, so
 * they cannot hide or fake a call.
 */
export function calledProcedures(text: string): string[] {
  const toks = tokens(text);
  const names: string[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as Token;
    if (t.kind !== 'word' || t.text.toUpperCase() !== 'CALL') continue;
    const before = toks[i - 1];
    if (before?.kind === 'other' && before.text === '.') continue;
    if (!isName(toks[i + 1])) continue;
    const parts = [(toks[i + 1] as Token).text];
    let j = i + 2;
    while (toks[j]?.text === '.' && toks[j]?.kind === 'other' && isName(toks[j + 1])) {
      parts.push((toks[j + 1] as Token).text);
      j += 2;
    }
    const next = toks[j];
    if (parts.length > 1 || (next?.kind === 'other' && next.text === '(')) {
      names.push(parts.join('.'));
    }
  }
  return names;
}

/**
 * How deep the query text nests: brackets ((, [, {) and CASE … END, plus the longest run
 * of prefix operators (NOT, unary - and +) met at that depth, in the code only (comments
 * and strings blanked). Neo4j's parser fails a few hundred levels down with an internal
 * error (Neo.DatabaseError.General.UnknownError, or an "Ignored" error the driver reports
 * without a code), not a client error: the console refuses such text before it reaches
 * Neo4j (QUERY_MAX_NESTING).
 *
 * `case` and `end` may also name a variable, a label or a map key. So a CASE counts only
 * when an END within the same brackets closes it (a first pass finds which do), and
 * neither word counts after `.` or `$` or before a `:` (not `::`). A variable `end` can
 * still close a CASE early and hide a level: text that does gets Neo4j's own error.
 */
export function nestingDepth(text: string): number {
  const code = codeOnly(text);
  return scanNesting(code, scanNesting(code, null).closed).max;
}

const WORD_RUN = new RegExp(`^[${NAME_CHARS}]+`, 'u');
const KEY_AHEAD = new RegExp(`^${WS}*:(?!:)`, 'u');
const MEMBER_BEHIND = new RegExp(`[.$]${WS}*$`, 'u');

/**
 * One pass of nestingDepth: with `counted` null every CASE word opens a level, and
 * `closed` says which an END closed; with `counted`, only those open one.
 */
function scanNesting(
  code: string,
  counted: Set<number> | null,
): { max: number; closed: Set<number> } {
  const open: number[] = []; // -1 a bracket, else the offset of a CASE
  const closed = new Set<number>();
  let run = 0;
  let max = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code[i] as string;
    if (WS_CHAR.test(c)) continue;
    if (c === '(' || c === '[' || c === '{') {
      open.push(-1);
      run = 0;
    } else if (c === ')' || c === ']' || c === '}') {
      // CASEs left open inside the brackets close with them
      open.length = Math.max(0, open.lastIndexOf(-1));
      run = 0;
    } else if (c === '-' || c === '+') {
      run++;
    } else if (WORD_CHAR.test(c) && !WORD_CHAR.test(code[i - 1] ?? ' ')) {
      const word = WORD_RUN.exec(code.slice(i, i + 64))?.[0] ?? c;
      const upper = word.toUpperCase();
      run = upper === 'NOT' ? run + 1 : 0;
      if (upper === 'CASE' || upper === 'END') {
        const key = KEY_AHEAD.test(code.slice(i + word.length, i + word.length + 32));
        const member = MEMBER_BEHIND.test(code.slice(Math.max(0, i - 32), i));
        const top = open[open.length - 1];
        if (key || member) {
          // a map key, a property or a parameter: no level
        } else if (upper === 'CASE') {
          if (counted === null || counted.has(i)) open.push(i);
        } else if (top !== undefined && top >= 0) {
          closed.add(top);
          open.pop();
        }
      }
      i += word.length - 1;
    } else {
      run = 0;
    }
    max = Math.max(max, open.length + run);
  }
  return { max, closed };
}

/**
 * Nesting an analyst writes by hand stays far below this. Neo4j's parser fails a few
 * hundred levels down, and its planner's rewriting of AND and OR nested in turn grows
 * exponentially: 24 levels planned in 0.2 s, 32 in 1.2 s, 64 ran for minutes (12-06, on the
 * embedded 5.26), so 64 was too many.
 */
export const QUERY_MAX_NESTING = 32;

/**
 * Operators whose count alone, not their nesting, costs Neo4j too much (comments and
 * quoted parts blanked, so counted where they are code; a word XOR glued to a non-ASCII
 * letter is counted too, which errs towards refusing):
 *  - XOR: the planner rewrites each into AND / OR / NOT, doubling its work: 16 in a
 *    query planned in 0.6 s, 20 in 8 s, and 24 ran the embedded Neo4j out of heap (1 GiB:
 *    it died, and the service with it). QUERY_MAX_XOR.
 *  - Arithmetic and concatenation (+ - * / % ^ ||): a chain is a left-deep tree, which
 *    Neo4j's plan printer walks recursively: 350 `+` in a row overflowed its stack (an
 *    error with no code, a 500), 300 did not, and neither did 200 with a comparison
 *    between each 100; 200 `+` and 200 `-` in turn did, and 800 `-`. QUERY_MAX_ARITHMETIC
 *    counts them over the whole query, which is at least the longest chain; the `-` of
 *    relationships count too (two in `(a)-[:R]->(b)`), which errs towards refusing.
 */
export function operatorCounts(text: string): {
  xor: number;
  arithmetic: number;
  chain: number;
} {
  const code = codeOnly(text);
  return {
    xor: code.match(/(?<![A-Za-z0-9_$])XOR(?![A-Za-z0-9_$])/gi)?.length ?? 0,
    arithmetic: code.match(/\|\||[-+*/%^]/g)?.length ?? 0,
    chain: longestChain(codeOnly(text, true, 'q')),
  };
}

/** A character an expression can end with, so that `.` or `[` after it looks into it. */
const ATOM_END = new RegExp(`[${NAME_CHARS})\\]}]`, 'u');
/** A name, keyword or number, by code points (a letter beyond the BMP is one). */
const NAME = new RegExp(`[${NAME_CHARS}]+`, 'uy');

/**
 * The longest run of property lookups and indexes (`m.a.a`, `l[0][0]`): each is one level
 * of a left-deep tree, as in an arithmetic chain. On the embedded 5.26, 300 `.a` or 300
 * `[0]` after one value overflowed the plan printer's stack (a 500), 250 `.a` and 200 `[0]`
 * did not (review, 12-07). Counted through brackets and CASE … END as the tree has it: a
 * lookup inside an index adds to the index's depth (`l[m.a.a]` is 3), and what a bracket
 * or a CASE holds is one operand as deep as its deepest chain (`(m.a.a).a` is 3, as
 * `m.a.a.a`: Neo4j keeps no brackets in the tree). Over text from `codeOnly` with quoted
 * parts made names (`` m.`a`.`a` `` is 2); it errs towards counting more (`RETURN [1]` is
 * an index of RETURN, `f(a.b, c).d` is 2).
 */
export function longestChain(code: string): number {
  // One level per bracket or CASE still open: its chain now, and its longest so far.
  const levels = [{ n: 0, peak: 0 }];
  let total = 0; // the open levels' chains together
  let longest = 0;
  let prev = ''; // the last character that is not white space
  const top = () => levels[levels.length - 1] as { n: number; peak: number };
  const set = (n: number) => {
    const level = top();
    total += n - level.n;
    level.n = n;
    if (n > level.peak) level.peak = n;
    if (total > longest) longest = total;
  };
  const open = () => levels.push({ n: 0, peak: 0 });
  const close = () => {
    if (levels.length === 1) return;
    const inner = levels.pop() as { n: number; peak: number };
    total -= inner.n;
    set(Math.max(top().n, inner.peak));
  };
  for (let i = 0; i < code.length;) {
    NAME.lastIndex = i;
    const name = NAME.exec(code)?.[0];
    if (name !== undefined) {
      const word = name.toUpperCase();
      if (prev === '.') {
        // the name a `.` looks up
      } else if (word === 'CASE') {
        set(0);
        open();
      } else if (word === 'END') close();
      else set(0); // a new name starts a new expression
      prev = '_'; // a name ends an expression, whatever its last letter
      i += name.length;
      continue;
    }
    const c = code[i] as string;
    if (c === '.' && ATOM_END.test(prev) && !/[0-9]/.test(code[i + 1] ?? '')) set(top().n + 1);
    else if (c === '[' || c === '(' || c === '{') {
      if (c === '[' && ATOM_END.test(prev)) set(top().n + 1);
      open();
    } else if (c === ']' || c === ')' || c === '}') close();
    else if (!WS_CHAR.test(c)) set(0);
    if (!WS_CHAR.test(c)) prev = c;
    i++;
  }
  return longest;
}

export const QUERY_MAX_XOR = 8;
export const QUERY_MAX_ARITHMETIC = 200;

/**
 * A backslash, then u or U: refused whatever follows. A reader that decodes the next four
 * characters with Java's Integer.parseInt would also take `+053` or full-width digits
 * (the embedded 5.26 calls `\u+053E` a syntax error), so no hex pattern is relied on.
 */
const UNICODE_ESCAPE = /\\u/i;

/**
 * Checks of the text alone, before Neo4j plans it:
 * - any backslash before u (a \uXXXX escape): 400 bad_request, reason unicode_escape (Neo4j decodes it before
 *   parsing, so `M\u0041TCH` is MATCH to Neo4j and not to these checks);
 * - `CALL { … } IN [n] [CONCURRENT] TRANSACTIONS` runs only in an implicit transaction,
 *   and Neo4j fails it in ours with a DatabaseError (a 500): 400, reason in_transactions;
 * - a USE clause would read another database the service's login can see (on Enterprise
 *   or Aura): 403 write_not_allowed, reason use. USE is refused whatever it names (an
 *   alias or `graph.byName` can name any database, `USE and.other` and `USE or` too). A
 *   bare word `use` counts as the clause where a USE clause can stand, at the start of a
 *   query part (see atPartStart), followed by a name or a bracket; anywhere else it is a
 *   variable or a property (`RETURN use STARTS WITH 'a'`, `AS use`, `.use`, `{use: 1}`),
 *   and a variable of that name can be written `` `use` `` anywhere.
 */
/** Words that begin a clause: past one, `} IN …` was an operand, not IN TRANSACTIONS. */
const CLAUSE_WORDS = new Set(
  'RETURN WITH MATCH OPTIONAL UNWIND CALL WHERE ORDER SKIP OFFSET LIMIT UNION CREATE MERGE SET DELETE DETACH REMOVE FOREACH LOAD FINISH USE'.split(
    ' ',
  ),
);

/**
 * After these a word is a name or an operand (`AS transactions`, `AND transactions > 0`,
 * `.transactions`), never the keyword TRANSACTIONS (review, 12-06: such a variable after
 * `{a: 1} IN […]` was refused as IN TRANSACTIONS).
 */
const OPERAND_AFTER_WORDS = new Set('AS AND OR XOR NOT IS STARTS ENDS CONTAINS'.split(' '));
const OPERAND_AFTER_CHARS = '.+-*/%^=<>,|:';

/** For each closing bracket, the token that opened it; -1 for none (and for others). */
function openers(toks: Token[]): Int32Array {
  const openOf = new Int32Array(toks.length).fill(-1);
  const open: number[] = [];
  toks.forEach((t, j) => {
    if (t.kind !== 'other') return;
    if ('([{'.includes(t.text)) open.push(j);
    else if (')]}'.includes(t.text) && open.length > 0) openOf[j] = open.pop() as number;
  });
  return openOf;
}

/**
 * Whether the `}` at `close` ends a subquery, `CALL { … }` or `CALL (x) { … }`: only
 * then can IN TRANSACTIONS follow it (review, 12-06: `{a: 1} IN transactions`, a map in
 * a list called transactions, was refused). Unbalanced text counts as one, to refuse.
 */
function closesCall(toks: Token[], openOf: Int32Array, close: number): boolean {
  const open = openOf[close] as number;
  if (open < 0) return true;
  let before = toks[open - 1];
  if (before?.kind === 'other' && before.text === ')') {
    const scope = openOf[open - 1] as number;
    if (scope < 0) return true;
    before = toks[scope - 1];
  }
  return isWord(before, 'CALL');
}

/**
 * For each token j: whether the word TRANSACTIONS comes at j's bracket level, from j on,
 * before the next clause, the end of the enclosing bracket or of the statement (a
 * property `.transactions` is no such word). Asked after each `} IN`. One backward pass
 * that jumps over bracketed parts: scanning forward from each `} IN` was quadratic, and
 * 20,000 characters of `{}IN` held the service's thread for a second (review).
 */
function transactionsAhead(toks: Token[]): Uint8Array {
  const n = toks.length;
  // close[j]: the bracket closing the one opened at j (any kind closes any, as Neo4j's
  // own brackets nest); -1 when none does, and then nothing after j is at j's level.
  const close = new Int32Array(n).fill(-1);
  const open: number[] = [];
  toks.forEach((t, j) => {
    if (t.kind !== 'other') return;
    if ('([{'.includes(t.text)) open.push(j);
    else if (')]}'.includes(t.text) && open.length > 0) close[open.pop() as number] = j;
  });
  const ahead = new Uint8Array(n + 1); // ahead[n] = 0: the end
  for (let j = n - 1; j >= 0; j--) {
    const t = toks[j] as Token;
    if (t.kind === 'other') {
      if ('([{'.includes(t.text)) ahead[j] = close[j] === -1 ? 0 : (ahead[close[j]! + 1] as number);
      else if (')]}'.includes(t.text) || t.text === ';') ahead[j] = 0;
      else ahead[j] = ahead[j + 1] as number;
      continue;
    }
    const prev = toks[j - 1];
    const operand =
      prev?.kind === 'other'
        ? OPERAND_AFTER_CHARS.includes(prev.text)
        : prev?.kind === 'word' && OPERAND_AFTER_WORDS.has(prev.text.toUpperCase());
    if (t.kind !== 'word' || operand) {
      ahead[j] = ahead[j + 1] as number;
      continue;
    }
    const w = t.text.toUpperCase();
    ahead[j] = w === 'TRANSACTIONS' ? 1 : CLAUSE_WORDS.has(w) ? 0 : (ahead[j + 1] as number);
  }
  return ahead;
}

/**
 * Whether token i is where a USE clause can stand (Neo4j 5: first in a query part, or
 * right after an importing WITH): the start of the text or of a subquery (`{`), after
 * UNION [ALL | DISTINCT], right after the options before a query (token `prefix`: `CYPHER 5
 * runtime=slotted`, EXPLAIN, PROFILE), or right after a WITH list of plain names (`WITH *`,
 * `WITH x, y AS y`). Anywhere else a word is in a clause: an operand or a name (review,
 * 12-06: `RETURN use STARTS WITH 'a'` was refused as USE; `USE and.other` and
 * `WITH * USE other` were let through).
 */
function atPartStart(toks: Token[], i: number, openOf: Int32Array, prefix: number): boolean {
  const before = toks[i - 1];
  if (before === undefined) return true;
  if (before.kind === 'other' && (before.text === '{' || before.text === ';')) return true;
  if (isWord(before, 'UNION')) return true;
  if ((isWord(before, 'ALL') || isWord(before, 'DISTINCT')) && isWord(toks[i - 2], 'UNION'))
    return true;
  return prefix === i || afterWithList(toks, i, openOf);
}

/** Where the options before a query end: EXPLAIN, PROFILE, CYPHER [version] (key=value)*. */
function prefixEnd(toks: Token[]): number {
  let j = 0;
  for (;;) {
    if (isWord(toks[j], 'EXPLAIN') || isWord(toks[j], 'PROFILE')) j++;
    else if (isWord(toks[j], 'CYPHER')) {
      j++;
      if (toks[j]?.kind === 'word' && /^\d+$/.test(toks[j]!.text)) j++;
      while (isName(toks[j]) && toks[j + 1]?.kind === 'other' && toks[j + 1]!.text === '=') j += 3;
    } else return j;
  }
}

/**
 * Whether token i comes right after `WITH` and a list of `*`, names, names in brackets
 * (`(x)`, which Neo4j reads as x) and `… AS name`. A keyword that only looks like an item
 * (`WITH DISTINCT use`, `WITH NOT use`, `, CASE use`) counts as one unless what follows
 * `use` is no graph reference and clause (useClauseAhead): Neo4j takes `distinct` for a
 * variable there too (review, 12-06).
 */
function afterWithList(toks: Token[], i: number, openOf: Int32Array): boolean {
  const keyword = ['DISTINCT', 'NOT', 'CASE'].some((w) => isWord(toks[i - 1], w));
  if (keyword && !useClauseAhead(toks, i, openOf)) return false;
  for (let j = i - 1; ; j--) {
    j = nameStart(toks, j, openOf, true);
    if (j < 0) return false;
    if (isWord(toks[j - 1], 'AS')) {
      j = nameStart(toks, j - 2, openOf, false);
      if (j < 0) return false;
    }
    if (isWord(toks[j - 1], 'WITH')) return true;
    if (!(toks[j - 1]?.kind === 'other' && toks[j - 1]!.text === ',')) return false;
    j--;
  }
}

/**
 * Where the WITH item ending at token j starts: a name, `*` (when `star`), or a name in
 * brackets, `((x))`, which Neo4j reads as x; -1 when it is none of those.
 */
function nameStart(toks: Token[], j: number, openOf: Int32Array, star: boolean): number {
  const t = toks[j];
  if (isName(t) || (star && t?.kind === 'other' && t.text === '*')) return j;
  let close = j;
  let open = close >= 0 ? (openOf[close] as number) : -1;
  const start = open;
  while (open >= 0 && toks[open]?.text === '(' && toks[open]?.kind === 'other') {
    if (open + 2 === close && isName(toks[open + 1])) return start;
    if (openOf[close - 1] !== open + 1 || toks[open + 1]?.text !== '(') return -1;
    close -= 1;
    open += 1;
  }
  return -1;
}

/** Words a query part can go on with after a USE clause's graph reference. */
const AFTER_USE_WORDS = new Set([...CLAUSE_WORDS, 'SHOW', 'TERMINATE', 'INSERT', 'NODETACH']);
AFTER_USE_WORDS.delete('USE');
/** Words after a variable that no graph reference is: `DISTINCT use STARTS WITH …`. */
const NOT_A_GRAPH = new Set('AS AND OR XOR IS IN STARTS ENDS CONTAINS'.split(' '));

/**
 * Whether the tokens after the `use` at i read as a USE clause: `GRAPH` or not, a graph
 * reference (a name, dotted names, `graph.byName(…)`, or one in brackets), then a clause,
 * `}` or the end. Anything else after the reference (a character the tokens split at
 * that Neo4j might keep in a name) counts as a reference going on: refused.
 */
function useClauseAhead(toks: Token[], i: number, openOf: Int32Array): boolean {
  let j = i + 1;
  const closeOf = (o: number) => openOf.indexOf(o, o + 1);
  const isOpen = (t: Token | undefined) => t?.kind === 'other' && t.text === '(';
  // USE GRAPH other: the word is optional (review, 12-06)
  if (isWord(toks[j], 'GRAPH') && (isName(toks[j + 1]) || isOpen(toks[j + 1]))) j++;
  if (isOpen(toks[j])) {
    const close = closeOf(j);
    if (close < 0) return true;
    j = close + 1;
  } else {
    const name = toks[j];
    if (!isName(name) || (name?.kind === 'word' && NOT_A_GRAPH.has(name.text.toUpperCase())))
      return false;
    j++;
    let dotted = false;
    while (toks[j]?.text === '.' && toks[j]?.kind === 'other' && isName(toks[j + 1])) {
      j += 2;
      dotted = true;
    }
    if (dotted && isOpen(toks[j])) {
      const close = closeOf(j);
      if (close < 0) return true;
      j = close + 1;
    }
  }
  const t = toks[j];
  if (t === undefined) return true;
  if (t.kind === 'other') return t.text === '}' || t.text === ';' || !/^[\x20-\x7e]$/.test(t.text);
  return t.kind === 'word' && AFTER_USE_WORDS.has(t.text.toUpperCase());
}

export function assertQueryText(text: string): void {
  // Neo4j replaces \uXXXX escapes before it parses, keywords and quotes included
  // (`U\u0053E other`, `'a\u0027, …`), where the checks here read them as written.
  if (UNICODE_ESCAPE.test(text)) {
    throw new AppError(
      'bad_request',
      'unicode escapes (a backslash before u, as in \\uXXXX) are not accepted in console queries: Neo4j decodes them before it parses the query, keywords and quotes included; pass such text as a parameter',
      { details: { reason: 'unicode_escape' } },
    );
  }
  const toks = tokens(text);
  let ahead: Uint8Array | undefined; // made at the first `} IN`
  let openOf: Int32Array | undefined;
  const prefix = prefixEnd(toks);
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as Token;
    if (t.kind !== 'word') continue;
    const word = t.text.toUpperCase();
    const before = toks[i - 1];
    if (word === 'IN' && before?.kind === 'other' && before.text === '}') {
      // IN TRANSACTIONS, IN 3 TRANSACTIONS, IN $n CONCURRENT TRANSACTIONS, and any other
      // expression before CONCURRENT: IN (2) …, IN 1+1 …, IN $p.n … (review, 12-05)
      ahead ??= transactionsAhead(toks);
      openOf ??= openers(toks);
      if (ahead[i + 1] === 1 && closesCall(toks, openOf, i - 1)) {
        throw new AppError(
          'bad_request',
          "CALL { … } IN TRANSACTIONS cannot run in the console: it needs an implicit transaction, and analysts' queries run in one read transaction",
          { details: { reason: 'in_transactions' } },
        );
      }
    }
    if (word === 'USE' && atPartStart(toks, i, (openOf ??= openers(toks)), prefix)) {
      const next = toks[i + 1];
      // a graph reference may be in brackets too: USE (other), USE (graph.byName($g))
      const bracketed = next?.kind === 'other' && next.text === '(';
      if (bracketed || isName(next)) {
        throw new AppError(
          'write_not_allowed',
          "USE is not allowed in ad-hoc queries: they read the service's own database (write a variable called use as `use`)",
          { details: { reason: 'use' } },
        );
      }
    }
  }
}

/** Commands an analyst may run: schema and catalogue listings only. */
const ALLOWED_COMMANDS = new Set([
  'ShowIndexes',
  'ShowConstraints',
  'ShowFunctions',
  'ShowProcedures',
]);

/** Procedures an analyst may call: ones that read the schema and nothing else. */
export const ALLOWED_PROCEDURES = new Set([
  'db.labels',
  'db.relationshipTypes',
  'db.propertyKeys',
  // Not db.schema.nodeTypeProperties / relTypeProperties: they read every node or
  // relationship and its properties before the first row (review, 12-07).
  'db.schema.visualization',
]);

function planNodes(plan: PlanNode | false | undefined): PlanNode[] {
  if (!plan) return [];
  return [plan, ...(plan.children ?? []).flatMap((c) => planNodes(c))];
}

export function planOperators(plan: PlanNode | false | undefined): string[] {
  return planNodes(plan).map((n) => n.operatorType);
}

/** "ShowTransactions@neo4j" → "ShowTransactions" */
const operatorName = (node: PlanNode) => node.operatorType.replace(/@.*$/, '');

/** An operator's Details text ('' when it has none). */
function detailsOf(node: PlanNode): string {
  const details = node.arguments?.Details;
  return typeof details === 'string' ? details : '';
}

/** The procedure a ProcedureCall node calls, from its resolved signature. */
export function procedureName(node: PlanNode): string | undefined {
  return /^([\w.]+)\(/.exec(detailsOf(node))?.[1];
}

/**
 * Procedures called in subqueries nested in an operator's expressions: Neo4j writes
 * each as "ResolvedCall(name(…" in the Details. A name it writes otherwise (quoted) is
 * returned whole, so it is not on the allow-list either.
 */
export function nestedProcedures(node: PlanNode): string[] {
  return [...detailsOf(node).matchAll(/ResolvedCall\(([^(]*)\(/g)].map((m) =>
    (m[1] as string).trim(),
  );
}

function refuseProcedure(name: string | undefined): never {
  throw new AppError('write_not_allowed', `procedure ${name ?? '(unknown)'} is not allowed`, {
    details: { reason: 'procedure', procedure: name ?? null, allowed: [...ALLOWED_PROCEDURES] },
  });
}

/**
 * Throws 403 write_not_allowed (details.reason says why) unless the plan is read-only,
 * loads no files, runs no command but a schema listing and calls only allow-listed procedures.
 */
export function assertReadOnly(
  text: string,
  queryType: string | undefined,
  plan: PlanNode | false | undefined,
): void {
  if (!plan) {
    throw new AppError('write_not_allowed', 'Neo4j gave no plan for the query to check', {
      details: { reason: 'no_plan' },
    });
  }
  for (const name of calledProcedures(text)) {
    if (!ALLOWED_PROCEDURES.has(name)) refuseProcedure(name);
  }
  const nodes = planNodes(plan);
  if (
    mentionsLoadCsv(text) ||
    nodes.some((n) => /^LoadCSV/i.test(n.operatorType) || detailsMentionLoadCsv(detailsOf(n)))
  ) {
    throw new AppError('write_not_allowed', 'LOAD CSV is not allowed in ad-hoc queries', {
      details: { reason: 'load_csv' },
    });
  }
  // Commands and procedures first: a DBMS procedure plans as "s", and "procedure X is
  // not allowed" with the allowed list tells the analyst more than "not read-only".
  for (const node of nodes) {
    const op = operatorName(node);
    if (/^(Show|Terminate)/.test(op) && !ALLOWED_COMMANDS.has(op)) {
      throw new AppError('write_not_allowed', `${op} is not allowed in ad-hoc queries`, {
        details: { reason: 'command', operator: op },
      });
    }
    if (op === 'ProcedureCall') {
      const name = procedureName(node);
      if (name === undefined || !ALLOWED_PROCEDURES.has(name)) refuseProcedure(name);
    }
    for (const name of nestedProcedures(node)) {
      if (!ALLOWED_PROCEDURES.has(name)) refuseProcedure(name);
    }
  }
  if (queryType !== 'r') {
    throw new AppError('write_not_allowed', 'ad-hoc queries must be read-only', {
      details: { reason: 'not_read_only', queryType: queryType ?? null },
    });
  }
}
