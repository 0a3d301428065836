/**
 * Block structure of brace languages (C, C++, Java, C#, Go, Rust, Kotlin, Swift, PHP, ...).
 * Each `{` is classified by the tokens since the previous statement boundary (its header):
 * a control block if the header holds a control keyword (if, for, while, switch, try, catch,
 * else, do, match, when, ...), a function if it looks like `name(params) {` (and, where the
 * language has one, carries its function keyword: `func`, `fn`, `fun`, `function`, `def`),
 * otherwise another block (class body, initializer, lambda). Lambdas and anonymous functions
 * are not listed as functions: their decisions count toward the enclosing function.
 */
import type { Token } from './generic-lexer';
import type { LanguageProfile } from './language-profiles';
import type { FunctionMetrics } from './types';

export interface Structure {
  functions: FunctionMetrics[];
  /** Per token: index in `functions` of the innermost function holding it, or -1. */
  owner: Int32Array;
  /** Deepest control nesting outside any function. */
  topNesting: number;
  /** Tokens that are decision points only because of where they sit (match/when arms). */
  armTokens: number[];
  /** Empty `catch` blocks: the `catch` token, and the offsets of its braces. */
  emptyHandlers: Array<{ line: number; from: number; to: number }>;
}

const CONTROL = new Set(['if', 'else', 'for', 'foreach', 'while', 'do', 'switch', 'try', 'catch', 'finally', 'match', 'when', 'loop', 'select', 'guard', 'repeat', 'synchronized', 'using', 'lock']);
const NOT_A_NAME = new Set([...CONTROL, 'return', 'sizeof', 'typeof', 'new', 'func', 'fn', 'fun', 'function', 'def', 'use', 'await', 'throw', 'yield', 'in', 'is', 'as', 'and', 'or', 'not', 'fixed']);
const TYPE_WORDS = new Set(['class', 'struct', 'interface', 'enum', 'record', 'union', 'namespace', 'impl', 'trait', 'object', 'extension', 'protocol']);
const DISQUALIFY = new Set(['=', ':=', '=>', 'new', 'return', 'throw']);
const ENDS_STATEMENT = new Set([')', ']', '}', '++', '--']);

interface Brace {
  kind: 'control' | 'function' | 'other';
  keyword?: string;
  keywordToken?: number;
  /** Index of the function this brace opens, if it opens one. */
  fn?: number;
  /** The innermost function holding this block (itself included), or -1. */
  within: number;
  /** Control blocks enclosing this one inside `within` (itself included). */
  depth: number;
  open: number;
  saved?: { header: number[]; paren: number };
}

export function braceStructure(tokens: Token[], profile: LanguageProfile): Structure {
  const functions: FunctionMetrics[] = [];
  const owner = new Int32Array(tokens.length).fill(-1);
  const armTokens: number[] = [];
  const emptyHandlers: Structure['emptyHandlers'] = [];
  const stack: Brace[] = [];
  let topNesting = 0;
  let header: number[] = [];
  let paren = 0;
  let currentFn = -1;

  tokens.forEach((t, i) => {
    const prev = tokens[i - 1];
    if (profile.newlineEndsStatement && t.lineStart && paren === 0 && prev && (prev.kind !== 'op' || ENDS_STATEMENT.has(prev.text))) header = [];
    owner[i] = currentFn;
    const top = stack[stack.length - 1];
    if (profile.arms && top?.keyword === profile.arms.keyword && paren === 0 && t.text === profile.arms.arrow && prev?.text !== profile.arms.catchAll) {
      armTokens.push(i);
    }
    switch (t.text) {
      case '(':
      case '[':
        paren++;
        header.push(i);
        return;
      case ')':
      case ']':
        paren = Math.max(0, paren - 1);
        header.push(i);
        return;
      case ';':
        if (paren === 0 && !(profile.semicolonInHeader && CONTROL.has(tokens[header[0]]?.text ?? ''))) header = [];
        else header.push(i);
        return;
      case '{': {
        const { fnMetrics, ...brace } = classify(tokens, header, paren, profile, i);
        if (fnMetrics) {
          brace.fn = brace.within = currentFn = functions.length;
          functions.push(fnMetrics);
        } else {
          brace.within = currentFn;
          brace.depth = (top?.depth ?? 0) + (brace.kind === 'control' ? 1 : 0);
          if (brace.kind === 'control' && currentFn >= 0) functions[currentFn].maxNesting = Math.max(functions[currentFn].maxNesting, brace.depth);
          else if (brace.kind === 'control') topNesting = Math.max(topNesting, brace.depth);
        }
        stack.push(brace);
        header = [];
        paren = 0;
        return;
      }
      case '}': {
        const brace = stack.pop();
        if (!brace) return;
        if (brace.fn !== undefined) functions[brace.fn].lines = t.line - functions[brace.fn].line + 1;
        currentFn = stack[stack.length - 1]?.within ?? -1;
        if (brace.keyword === 'catch' && brace.open === i - 1) {
          emptyHandlers.push({ line: tokens[brace.keywordToken!].line, from: tokens[brace.open].start, to: t.start });
        }
        // A block inside an expression continues the statement that held it.
        header = brace.saved?.header ?? [];
        if (brace.saved) header.push(i);
        paren = brace.saved?.paren ?? 0;
        return;
      }
      default:
        header.push(i);
    }
  });
  return { functions, owner, topNesting, armTokens, emptyHandlers };
}

function classify(tokens: Token[], header: number[], paren: number, profile: LanguageProfile, open: number): Brace & { fnMetrics?: FunctionMetrics } {
  const base = { open, within: -1, depth: 0 };
  // A brace inside parentheses is part of an expression (lambda, anonymous class, initializer).
  if (paren > 0) return { ...base, kind: 'other', saved: { header, paren } };
  const flat = atDepthZero(tokens, header);
  for (let k = flat.length - 1; k >= 0; k--) {
    const w = tokens[flat[k]];
    if (w.kind === 'word' && CONTROL.has(w.text)) return { ...base, kind: 'control', keyword: w.text, keywordToken: flat[k] };
  }
  const fnMetrics = functionHeader(tokens, header, flat, profile);
  return fnMetrics ? { ...base, kind: 'function', fnMetrics } : { ...base, kind: 'other' };
}

/** Header tokens outside parentheses and brackets, plus the opening `(`/`[` of each group. */
function atDepthZero(tokens: Token[], header: number[]): number[] {
  const out: number[] = [];
  let depth = 0;
  for (const i of header) {
    const x = tokens[i].text;
    if (depth === 0) out.push(i);
    if (x === '(' || x === '[') depth++;
    else if ((x === ')' || x === ']') && depth > 0) depth--;
  }
  return out;
}

function functionHeader(tokens: Token[], header: number[], flat: number[], profile: LanguageProfile): FunctionMetrics | undefined {
  const texts = flat.map((i) => tokens[i].text);
  if (profile.functionWords) {
    if (!texts.some((x) => profile.functionWords!.includes(x))) return undefined;
  } else if (texts.some((x) => DISQUALIFY.has(x))) return undefined;
  for (const i of flat) {
    if (tokens[i].text !== '(') continue;
    const nameAt = nameBefore(tokens, i, header[0]);
    if (nameAt === undefined) continue;
    const name = qualifiedName(tokens, nameAt, header[0]);
    const typeAt = texts.findIndex((x) => TYPE_WORDS.has(x));
    if (typeAt >= 0 && tokens[flat[typeAt + 1]]?.text === tokens[nameAt].text) return undefined; // `record Point(int x) {`
    return { name, line: tokens[nameAt].line, complexity: 1, lines: 1, params: countParams(tokens, i), maxNesting: 0 };
  }
  return undefined;
}

/** The word naming the call-like group opening at `open`, skipping generic arguments `<...>`. */
function nameBefore(tokens: Token[], open: number, first: number): number | undefined {
  let k = open - 1;
  if (tokens[k]?.text === '>') {
    let depth = 0;
    for (; k >= first; k--) {
      if (tokens[k].text === '>') depth++;
      else if (tokens[k].text === '<' && --depth === 0) break;
    }
    k--;
  }
  const w = tokens[k];
  if (!w || k < first || w.kind !== 'word' || NOT_A_NAME.has(w.text) || w.text.startsWith('@')) return undefined;
  const before = tokens[k - 1]?.text;
  return before === '.' || before === '->' ? undefined : k;
}

/** `Outer::Inner::name` for C++-style qualified definitions. */
function qualifiedName(tokens: Token[], at: number, first: number): string {
  let name = tokens[at].text;
  for (let k = at - 1; k - 1 >= first && tokens[k].text === '::' && tokens[k - 1].kind === 'word'; k -= 2) name = `${tokens[k - 1].text}::${name}`;
  return name;
}

/** Parameters in the group opening at `open`: top-level commas, minus `void` and a Rust `self` receiver. */
function countParams(tokens: Token[], open: number): number {
  const groups: string[][] = [[]];
  let depth = 0;
  for (let k = open + 1; k < tokens.length; k++) {
    const x = tokens[k].text;
    if (x === '(' || x === '[' || x === '{' || x === '<') depth++;
    else if (x === ')' || x === ']' || x === '}' || x === '>') {
      if (depth === 0) break;
      depth--;
    } else if (x === ',' && depth === 0) {
      groups.push([]);
      continue;
    }
    groups[groups.length - 1].push(x);
  }
  return groups.filter((g) => g.length > 0 && !(g.length === 1 && g[0] === 'void') && !g.includes('self')).length;
}
