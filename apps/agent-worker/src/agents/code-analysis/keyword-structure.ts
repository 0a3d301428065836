/**
 * Block structure of keyword-delimited languages: Ruby (`def`/`if`/`do`/... closed by `end`)
 * and shell (`if`..`fi`, `case`..`esac`, `do`..`done`, functions `name() { ... }`).
 * Conditional keywords open a block only at the start of a statement, so Ruby's modifier forms
 * (`return x if y`) stay single-line. `do` blocks count as nesting (they are mostly iterations).
 */
import type { Structure } from './brace-structure';
import type { Token } from './generic-lexer';
import type { LanguageProfile } from './language-profiles';
import type { FunctionMetrics } from './types';

interface Opener {
  closer: string;
  kind: 'control' | 'function' | 'type';
  /** Opens a block only at the start of a statement. */
  statementStart: boolean;
}

const RUBY: Record<string, Opener> = {
  def: { closer: 'end', kind: 'function', statementStart: false },
  class: { closer: 'end', kind: 'type', statementStart: false },
  module: { closer: 'end', kind: 'type', statementStart: false },
  do: { closer: 'end', kind: 'control', statementStart: false },
  ...Object.fromEntries(['if', 'unless', 'while', 'until', 'case', 'for', 'begin'].map((k) => [k, { closer: 'end', kind: 'control', statementStart: true }])),
};
const SHELL: Record<string, Opener> = {
  if: { closer: 'fi', kind: 'control', statementStart: true },
  case: { closer: 'esac', kind: 'control', statementStart: true },
  do: { closer: 'done', kind: 'control', statementStart: false },
};
const LOOPS = new Set(['while', 'until', 'for']);
const CONTINUES = new Set(['then', 'else', 'do', 'begin', '{']);

interface Block {
  closer: string;
  kind: 'control' | 'function' | 'type' | 'other';
  fn?: number;
  line: number;
  loop?: boolean;
  /** Innermost function holding this block (itself included), or -1. */
  within: number;
  /** Control blocks enclosing this one inside `within` (itself included). */
  depth: number;
  /** Name of the innermost class/module holding this block (itself included). */
  typeName?: string;
}

/** Open blocks, with the positions of each closer kept so closing never scans the stack. */
class BlockStack {
  private readonly items: Block[] = [];
  private readonly byCloser = new Map<string, number[]>();

  get top(): Block | undefined {
    return this.items[this.items.length - 1];
  }

  push(block: Omit<Block, 'within' | 'depth' | 'typeName'> & { name?: string }): Block {
    const top = this.top;
    const within = block.fn ?? top?.within ?? -1;
    const depth = block.fn !== undefined ? 0 : (top?.depth ?? 0) + (block.kind === 'control' ? 1 : 0);
    const full: Block = { ...block, within, depth, typeName: block.kind === 'type' ? block.name : top?.typeName };
    const positions = this.byCloser.get(full.closer) ?? [];
    positions.push(this.items.length);
    this.byCloser.set(full.closer, positions);
    this.items.push(full);
    return full;
  }

  /** Closes the innermost block ended by `closer`, and any left open inside it. */
  close(closer: string): Block[] {
    const positions = this.byCloser.get(closer);
    if (!positions || positions.length === 0) return [];
    const removed = this.items.splice(positions[positions.length - 1]);
    for (let k = removed.length - 1; k >= 0; k--) this.byCloser.get(removed[k].closer)!.pop();
    return removed;
  }
}

export function keywordStructure(tokens: Token[], profile: LanguageProfile): Structure {
  const openers = profile.language === 'ruby' ? RUBY : SHELL;
  const functions: FunctionMetrics[] = [];
  const owner = new Int32Array(tokens.length).fill(-1);
  const stack = new BlockStack();
  let topNesting = 0;

  tokens.forEach((t, i) => {
    owner[i] = stack.top?.within ?? -1;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    if (prev?.text === '.' || next?.text === ':' || prev?.text === ':') return; // method call `x.end`, hash key `if:`, symbol `:if`
    if (t.text === '{') {
      const fn = shellFunction(tokens, i);
      if (fn) functions.push(fn);
      stack.push(fn ? { closer: '}', kind: 'function', fn: functions.length - 1, line: t.line } : { closer: '}', kind: 'other', line: t.line });
      return;
    }
    if (t.kind === 'word' || t.text === '}') {
      const closed = stack.close(t.text);
      for (const b of closed) if (b.fn !== undefined) functions[b.fn].lines = t.line - functions[b.fn].line + 1;
      if (closed.length > 0) return;
    }
    const opener = t.kind === 'word' ? openers[t.text] : undefined;
    if (!opener) return;
    const startOfStatement = t.lineStart || !prev || prev.text === ';' || CONTINUES.has(prev.text) || (prev.kind === 'op' && ![')', ']', '}'].includes(prev.text));
    if (opener.statementStart && !startOfStatement) return;
    const top = stack.top;
    if (t.text === 'do' && top?.loop && top.line === t.line && profile.language === 'ruby') return; // `while x do`
    if (opener.kind === 'function') {
      const fn = rubyMethod(tokens, i, top?.typeName);
      if (!fn) return; // endless `def f(x) = expr`
      functions.push(fn);
      stack.push({ closer: opener.closer, kind: 'function', fn: functions.length - 1, line: t.line });
      return;
    }
    const name = opener.kind === 'type' && next?.kind === 'word' ? next.text : undefined;
    const block = stack.push({ closer: opener.closer, kind: opener.kind, line: t.line, name, loop: LOOPS.has(t.text) });
    if (block.kind !== 'control') return;
    if (block.within >= 0) functions[block.within].maxNesting = Math.max(functions[block.within].maxNesting, block.depth);
    else topNesting = Math.max(topNesting, block.depth);
  });
  return { functions, owner, topNesting, armTokens: [], emptyHandlers: [] };
}

/** `def name(a, b)`, `def self.name a, b`, `def ==(other)`; undefined for an endless method. */
function rubyMethod(tokens: Token[], at: number, typeName: string | undefined): FunctionMetrics | undefined {
  let k = at + 1;
  let name = tokens[k]?.text ?? '<anonymous>';
  let singleton = false;
  if (tokens[k + 1]?.text === '.' && tokens[k + 2]) {
    singleton = name === 'self';
    name = singleton ? tokens[k + 2].text : `${name}.${tokens[k + 2].text}`;
    k += 2;
  }
  k++;
  const line = tokens[at].line;
  const parens = tokens[k]?.text === '(' && !tokens[k].spaceBefore;
  if (!parens && tokens[k]?.text === '=' && tokens[k].line === line) return undefined; // endless `def f = expr`
  let params = 0;
  let seen = false;
  let depth = 0;
  for (; k < tokens.length; k++) {
    const x = tokens[k];
    if (!parens && (x.line !== line || x.text === ';')) break;
    if (x.text === '(' || x.text === '[' || x.text === '{') depth++;
    else if (x.text === ')' || x.text === ']' || x.text === '}') depth--;
    if (parens && depth === 0) {
      k++;
      break;
    }
    if (x.text === ',' && depth === (parens ? 1 : 0)) params++;
    else if (x.text !== '(' || !parens || depth > 1) seen = true;
  }
  if (seen) params++;
  if (parens && tokens[k]?.text === '=' && tokens[k].line === line) return undefined; // endless `def f(x) = expr`
  const qualified = typeName ? `${typeName}${singleton ? '.' : '#'}${name}` : name;
  return { name: qualified, line, complexity: 1, lines: 1, params, maxNesting: 0 };
}

/** Shell `name() {` or `function name {`. */
function shellFunction(tokens: Token[], open: number): FunctionMetrics | undefined {
  const [a, b, c] = [tokens[open - 3], tokens[open - 2], tokens[open - 1]];
  let nameTok: Token | undefined;
  if (b?.text === '(' && c?.text === ')' && a?.kind === 'word') nameTok = a;
  else if (b?.text === 'function' && c?.kind === 'word') nameTok = c;
  else if (tokens[open - 4]?.text === 'function' && b?.text === '(' && c?.text === ')') nameTok = a;
  if (!nameTok) return undefined;
  return { name: nameTok.text, line: nameTok.line, complexity: 1, lines: 1, params: 0, maxNesting: 0 };
}
