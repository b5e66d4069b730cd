/**
 * Prompt text for the simulator: templates (a long system prompt plus a short task with
 * variable slots) and pools of pre-fingerprinted variants. Fingerprinting every simulated
 * request would be too slow, so each template's variants are generated and hashed once
 * with the real `simhash` and requests sample from the pool.
 */
import { SimhashVotes, hammingHex, simhash, tokenize } from '../ingest/simhash';
import { Rng } from './rng';

/** A template's variants: parallel arrays of fingerprint and text. */
export interface PromptPool {
  name: string;
  fingerprints: string[];
  texts: string[];
}

const FILLER = (
  'the a an of to and in for on with by from as at into about over under between each every ' +
  'this that these those your our their its all any some more most less least first last next ' +
  'answer question response result output input step reason argument claim evidence source ' +
  'context instruction rule policy format section table list item example case detail summary ' +
  'user assistant model system tool function call file code module test error log record report ' +
  'value field key data set sample metric score rubric grade criterion level quality accuracy ' +
  'clear brief precise complete careful explicit concise formal neutral helpful honest safe ' +
  'must should always never only also then when if unless before after while because therefore ' +
  'write explain describe list check verify compare rank rewrite refine review analyse compute ' +
  'return include avoid keep use follow produce provide give show mark label cite quote note ' +
  'plan task goal subtask action observation state memory history turn message reply draft final'
).split(' ');

const THEMES: Record<string, string[]> = {
  reasoning: [
    'think step by step and write out every intermediate step of your reasoning in full',
    'show the complete chain of thought before the final answer and never skip a step',
    'grade the candidate answer against the rubric and justify each score with a quote',
    'rewrite the answer so that it handles the sensitive question carefully and neutrally',
    'list the assumptions you make and check each one before you continue',
  ],
  agentic: [
    'you are an autonomous agent that plans and calls tools to finish the task',
    'after each tool call read the observation and decide the next action',
    'load the dataset, compute summary statistics and explain the analysis',
    'return the tool call as json with the function name and the arguments',
    'keep a scratchpad of the plan and update it after every observation',
  ],
  coding: [
    'you are a senior software engineer working inside a large repository',
    'read the files, write the patch as a unified diff and run the tests',
    'coordinate the sub agents, assign each one a file and merge their patches',
    'explain the bug, then fix it with the smallest change that passes the tests',
    'use the shell tool to run the build and report every failing test',
  ],
  framework: [
    'you are a helpful assistant built with a popular open source agent framework',
    'answer the user question using the retrieved documents and cite the sources',
    'if the documents do not contain the answer say that you do not know',
    'respond in markdown and keep the answer short and friendly',
  ],
  company: [
    'you are the internal assistant of our company and follow our style guide',
    'summarise the ticket, suggest an owner and draft a reply to the customer',
    'never share internal data outside the company and mark confidential items',
  ],
  course: [
    'you are a teaching assistant for an introductory university course',
    'help the student with the homework exercise without giving the full solution',
    'explain the concept with a small example and ask a follow up question',
  ],
  personal: [
    'you are my personal automation script that processes one item at a time',
    'extract the fields from the input and return them as a json object',
    'classify the item and write a one line summary for the log',
  ],
};

const TASK_VERBS = ['solve', 'explain', 'grade', 'rewrite', 'analyse', 'fix', 'refactor', 'test'];
const TASK_NOUNS = ['problem', 'function', 'dataset', 'answer', 'module', 'query', 'essay', 'bug'];
const NAMES = [
  'alpha',
  'beta',
  'gamma',
  'delta',
  'orders',
  'users',
  'billing',
  'parser',
  'cache',
  'router',
  'invoice',
  'report',
  'sensor',
  'ledger',
  'graph',
  'queue',
  'auth',
  'search',
  'upload',
  'stats',
];

/** A system prompt of `words` words: themed sentences interleaved with filler sentences. */
export function systemPrompt(rng: Rng, theme: string, words: number): string {
  const themed = THEMES[theme] ?? THEMES['framework'] ?? [];
  const parts: string[] = [];
  let count = 0;
  while (count < words) {
    const sentence =
      rng.chance(0.35) && themed.length > 0
        ? rng.pick(themed)
        : Array.from({ length: rng.range(8, 18) }, () => rng.pick(FILLER)).join(' ');
    parts.push(sentence.charAt(0).toUpperCase() + sentence.slice(1) + '.');
    count += sentence.split(' ').length;
  }
  return parts.join(' ');
}

/**
 * A short task with variable slots, the part that changes between variants. With `action`
 * fixed only the target name and number vary (tighter, cheaper near-duplicates).
 */
export function variableTask(rng: Rng, action?: string): string {
  const act = action ?? `${rng.pick(TASK_VERBS)} the ${rng.pick(TASK_NOUNS)}`;
  return `Task: ${act} in ${rng.pick(NAMES)}_${rng.int(1000)}.`;
}

export interface TemplateSpec {
  name: string;
  theme: string;
  words: number;
  variants: number;
  /**
   * Keep only variants within this Hamming distance of the template's reference variant
   * (an operator varying only slot values); pairwise distances are then mostly <= 3.
   * Undefined keeps every variant.
   */
  maxFromReference?: number;
}

/**
 * SimHash of `prefix + "\n" + suffix` for many suffixes, without re-hashing the long prefix:
 * the prefix's bigram votes are counted once, each suffix adds the bridging bigram and its
 * own. Gives exactly `simhash(prefix + "\n" + suffix)` (the newline is a token separator).
 */
export class PrefixSimhash {
  private readonly votes = new SimhashVotes();
  private readonly last: string | undefined;
  private readonly single: boolean;

  constructor(prefix: string) {
    const tokens = tokenize(prefix);
    this.last = tokens[tokens.length - 1];
    this.single = tokens.length === 1;
    for (let i = 0; i + 1 < tokens.length; i++)
      this.votes.addBigram(tokens[i] as string, tokens[i + 1] as string);
  }

  hash(suffix: string): string {
    const tokens = tokenize(suffix);
    // Single-token or empty texts use simhash's special cases.
    if (this.last === undefined || (this.single && tokens.length === 0)) return '';
    const votes = this.votes.fork();
    let prev = this.last;
    for (const t of tokens) {
      votes.addBigram(prev, t);
      prev = t;
    }
    return votes.fingerprint();
  }
}

/** Pre-generate and fingerprint `variants` texts of one template. */
export function templatePool(rng: Rng, spec: TemplateSpec): PromptPool {
  const system = systemPrompt(rng, spec.theme, spec.words);
  // Filtered templates vary the action too; unfiltered ones keep it fixed.
  const action =
    spec.maxFromReference === undefined
      ? `${rng.pick(TASK_VERBS)} the ${rng.pick(TASK_NOUNS)}`
      : undefined;
  const hasher = new PrefixSimhash(system);
  const fingerprint = (task: string) => hasher.hash(task) || simhash(`${system}\n${task}`);
  const reference = fingerprint(variableTask(rng, action));
  const fingerprints: string[] = [];
  const texts: string[] = [];
  const limit = spec.maxFromReference;
  for (let attempt = 0; fingerprints.length < spec.variants; attempt++) {
    const task = variableTask(rng, action);
    const fp = fingerprint(task);
    // Give up filtering after many attempts so a pathological template cannot stall.
    if (limit !== undefined && attempt < spec.variants * 40 && hammingHex(fp, reference) > limit) {
      continue;
    }
    texts.push(`${system}\n${task}`);
    fingerprints.push(fp);
  }
  return { name: spec.name, fingerprints, texts };
}

export interface ParaphraseSpec {
  theme: string;
  /** Share of the system prompt's sentences each variant rewords (or swaps). */
  share: number;
  /** Keep a variant only if more than this many bits from every variant kept before. */
  apart: number;
  variants: number;
}

/**
 * Paraphrased variants of `base`'s template: each takes the system prompt and rewords a
 * `share` of its sentences (a fresh themed or filler sentence, as systemPrompt writes
 * them; one in four of those swaps places with the next sentence instead), with a task
 * of its own. A variant is kept only if its SimHash is more than `apart` bits from every
 * variant kept before, so no two are near-duplicates, not even through a chain of them.
 * Stops after 40 attempts per variant wanted (the pool is then smaller).
 */
export function paraphrasePool(rng: Rng, base: PromptPool, spec: ParaphraseSpec): PromptPool {
  const first = base.texts[0] ?? '';
  const sentences = first.slice(0, first.lastIndexOf('\n')).split(/(?<=\.) /);
  const fingerprints: string[] = [];
  const texts: string[] = [];
  for (let attempt = 0; fingerprints.length < spec.variants; attempt++) {
    if (attempt >= spec.variants * 40) break;
    const s = [...sentences];
    for (let i = 0; i < s.length; i++) {
      if (!rng.chance(spec.share)) continue;
      if (i + 1 < s.length && rng.chance(0.25))
        [s[i], s[i + 1]] = [s[i + 1] as string, s[i] as string];
      else s[i] = systemPrompt(rng, spec.theme, 1);
    }
    const text = `${s.join(' ')}\n${variableTask(rng)}`;
    const fp = simhash(text);
    if (fingerprints.some((f) => hammingHex(f, fp) <= spec.apart)) continue;
    texts.push(text);
    fingerprints.push(fp);
  }
  return { name: base.name, fingerprints, texts };
}

const Q_STARTS = [
  'how do i',
  'what is the best way to',
  'can you help me',
  'explain how to',
  'why does',
  'write a short',
  'give me ideas to',
  'what are the pros and cons of',
  'is it possible to',
];
const Q_TOPICS = [
  'cook rice',
  'learn python',
  'fix my bike',
  'write a cover letter',
  'plan a trip to lisbon',
  'sort a list',
  'train for a marathon',
  'invest in index funds',
  'care for a cat',
  'center a div',
  'read a csv file',
  'negotiate a raise',
  'grow tomatoes',
  'say thanks in japanese',
  'understand recursion',
  'set up a router',
  'make sourdough',
  'write a haiku',
  'study for exams',
];
const Q_TAILS = [
  '',
  'quickly',
  'for a beginner',
  'in simple words',
  'step by step',
  'with an example',
  'on a budget',
  'for my kids',
  'at work',
  'this weekend',
];

/** A short everyday question (diverse: different questions are far apart in Hamming). */
export function genericQuestion(rng: Rng): string {
  const tail = rng.pick(Q_TAILS);
  return `${rng.pick(Q_STARTS)} ${rng.pick(Q_TOPICS)}${tail ? ' ' + tail : ''}?`;
}

/** A pool of everyday questions, deduplicated by text, used with a Zipf-like popularity. */
export function genericPool(rng: Rng, size: number): PromptPool {
  const seen = new Set<string>();
  const fingerprints: string[] = [];
  const texts: string[] = [];
  let attempts = 0;
  while (texts.length < size && attempts < size * 20) {
    attempts++;
    let text = genericQuestion(rng);
    if (seen.has(text)) text = `${text} ${rng.pick(FILLER)} ${rng.pick(FILLER)} ${rng.int(100)}`;
    if (seen.has(text)) continue;
    seen.add(text);
    texts.push(text);
    fingerprints.push(simhash(text));
  }
  return { name: 'generic', fingerprints, texts };
}

/** Text for a one-off prompt (only materialised when the raw prompt is emitted). */
export function oneOffText(rng: Rng): string {
  const words = Array.from({ length: rng.range(6, 30) }, () => rng.pick(FILLER));
  return `${genericQuestion(rng)} ${words.join(' ')} ${rng.hex(6)}`;
}
