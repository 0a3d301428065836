/**
 * Python analysis over the tokens of python-tokenizer.ts, so keywords inside strings, docstrings
 * and comments are never counted.
 *
 * Decision points (+1 each): if, elif, for, while, except, and, or (so comprehension `for`/`if`
 * and the `x if c else y` expression count too), and `case` clauses of `match` except `case _:`.
 * Functions start at `def` / `async def` and extend over the following lines indented deeper.
 * Nesting counts enclosing if/elif/else, for, while, try/except/finally, with and match blocks.
 */
import { TODO_PATTERN } from './line-tally';
import type { LogicalLine, PyToken } from './python-tokenizer';
import { tokenizePython } from './python-tokenizer';
import type { BlockMetrics, FunctionMetrics, Issue } from './types';

const DECISION_WORDS = new Set(['if', 'elif', 'for', 'while', 'except', 'and', 'or']);
const CONTROL_HEADERS = new Set(['if', 'elif', 'else', 'for', 'while', 'try', 'except', 'finally', 'with', 'match']);
const IMPLICIT_PARAMS = new Set(['self', 'cls']);

interface Scope {
  kind: 'def' | 'class' | 'control';
  indent: number;
  /** Class name, so methods are reported as `Class.method`. */
  name?: string;
  fn?: FunctionMetrics;
  /** For an `except` block: its line, and whether every statement in it is `pass`/`...` so far. */
  handler?: { line: number; statements: number; onlyPass: boolean; endLine: number };
}

export function analyzePython(code: string): BlockMetrics {
  const { logicalLines, comments, tally } = tokenizePython(code);
  const commentLines = new Set(comments.map((c) => c.line));
  const issues: Issue[] = [];
  const functions: FunctionMetrics[] = [];
  const stack: Scope[] = [];
  let topNesting = 0;
  let totalDecisions = 0;

  const close = (scope: Scope) => {
    const h = scope.handler;
    if (!h || h.statements === 0 || !h.onlyPass) return;
    for (let l = h.line; l <= h.endLine; l++) if (commentLines.has(l)) return;
    issues.push({ rule: 'empty-except', severity: 'warning', line: h.line, message: 'Exception handler only does `pass`: the error is silently swallowed' });
  };

  for (const ll of logicalLines) {
    while (stack.length > 0 && stack[stack.length - 1].indent >= ll.indent) close(stack.pop()!);
    const words = ll.tokens;
    const first = keyword(words, 0) === 'async' ? 1 : 0;
    const head = keyword(words, first);

    for (const scope of stack) {
      if (scope.fn) scope.fn.lines = ll.endLine - scope.fn.line + 1;
      if (scope.handler) {
        scope.handler.statements++;
        scope.handler.onlyPass &&= isPass(words);
        scope.handler.endLine = ll.endLine;
      }
    }

    if (head === 'def') {
      const fn = defineFunction(ll, first, issues);
      const holder = stack[stack.length - 1];
      if (holder?.kind === 'class' && holder.name) fn.name = `${holder.name}.${fn.name}`;
      functions.push(fn);
      stack.push({ kind: 'def', indent: ll.indent, fn });
    } else if (head === 'class') {
      stack.push({ kind: 'class', indent: ll.indent, name: keyword(words, first + 1) });
    } else if (isControlHeader(words, first)) {
      const depth = controlDepth(stack) + 1;
      const owner = enclosingFunction(stack);
      if (owner) owner.maxNesting = Math.max(owner.maxNesting, depth);
      else topNesting = Math.max(topNesting, depth);
      const scope: Scope = { kind: 'control', indent: ll.indent };
      if (head === 'except') scope.handler = exceptHandler(ll, issues);
      stack.push(scope);
    }

    const decisions = countDecisions(words);
    totalDecisions += decisions;
    const owner = enclosingFunction(stack);
    if (owner) owner.complexity += decisions;
    lineIssues(ll, issues);
  }
  while (stack.length > 0) close(stack.pop()!);

  for (const c of comments) {
    const todo = TODO_PATTERN.exec(c.text);
    if (todo) issues.push({ rule: 'todo-comment', severity: 'info', line: c.line, message: `${todo[1]} comment: unfinished work` });
  }
  return {
    language: 'python',
    ...tally.counts(),
    cyclomaticComplexity: 1 + totalDecisions,
    functions,
    maxNesting: functions.reduce((max, f) => Math.max(max, f.maxNesting), topNesting),
    issues: issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
  };
}

function keyword(tokens: PyToken[], i: number): string | undefined {
  const t = tokens[i];
  return t && t.kind === 'name' ? t.value : undefined;
}

function isPass(tokens: PyToken[]): boolean {
  return tokens.length === 1 && (tokens[0].value === 'pass' || tokens[0].value === '...');
}

/** A block-opening statement: a control keyword first and a `:` at bracket depth 0. */
function isControlHeader(tokens: PyToken[], first: number): boolean {
  const head = keyword(tokens, first);
  if (!head || !CONTROL_HEADERS.has(head)) return false;
  const second = tokens[first + 1];
  if (head === 'match' && (!second || ['=', '.', ':', ','].includes(second.value))) return false;
  return colonAt(tokens) >= 0;
}

/** Index of the first `:` outside brackets (the end of a compound statement's header), or -1. */
function colonAt(tokens: PyToken[]): number {
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const v = tokens[i].kind === 'op' ? tokens[i].value : '';
    if (v === '(' || v === '[' || v === '{') depth++;
    else if (v === ')' || v === ']' || v === '}') depth--;
    else if (v === ':' && depth === 0) return i;
  }
  return -1;
}

function countDecisions(tokens: PyToken[]): number {
  let n = 0;
  for (const t of tokens) if (t.kind === 'name' && DECISION_WORDS.has(t.value)) n++;
  // `case` is a soft keyword: a clause header starts with it, has a `:`, and `case _:` is the default.
  const second = tokens[1];
  if (keyword(tokens, 0) === 'case' && second && !['=', ':', '.', '('].includes(second.value) && colonAt(tokens) > 0) {
    const wildcard = second.value === '_' && tokens[2]?.value === ':';
    if (!wildcard) n++;
  }
  return n;
}

function controlDepth(stack: Scope[]): number {
  let depth = 0;
  for (let i = stack.length - 1; i >= 0 && stack[i].kind !== 'def'; i--) if (stack[i].kind === 'control') depth++;
  return depth;
}

function enclosingFunction(stack: Scope[]): FunctionMetrics | undefined {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i].fn) return stack[i].fn;
  return undefined;
}

function defineFunction(ll: LogicalLine, defAt: number, issues: Issue[]): FunctionMetrics {
  const tokens = ll.tokens;
  const name = keyword(tokens, defAt + 1) ?? '<anonymous>';
  const params = parameters(tokens, defAt + 2);
  for (const p of params) {
    const eq = p.findIndex((t) => t.value === '=');
    const dflt = eq >= 0 ? p[eq + 1] : undefined;
    const call = p[eq + 2]?.value === '(';
    if (dflt && (dflt.value === '[' || dflt.value === '{' || (call && ['list', 'dict', 'set'].includes(dflt.value)))) {
      issues.push({ rule: 'mutable-default', severity: 'warning', line: dflt.line, message: `Mutable default argument in \`${name}\` is shared between calls; default to None` });
    }
  }
  const counted = params.filter((p, i) => !(i === 0 && p.length === 1 && IMPLICIT_PARAMS.has(p[0].value)) && !(p.length === 1 && (p[0].value === '*' || p[0].value === '/')));
  return { name, line: ll.line, complexity: 1, lines: ll.endLine - ll.line + 1, params: counted.length, maxNesting: 0 };
}

/** The parameter list starting at `open` (the `(` after the name), split on top-level commas. */
function parameters(tokens: PyToken[], open: number): PyToken[][] {
  if (tokens[open]?.value !== '(') return [];
  const params: PyToken[][] = [];
  let current: PyToken[] = [];
  let depth = 0;
  for (let i = open + 1; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'op' && '([{'.includes(t.value)) depth++;
    if (t.kind === 'op' && ')]}'.includes(t.value)) {
      if (depth === 0) break;
      depth--;
    }
    if (depth === 0 && t.value === ',') {
      params.push(current);
      current = [];
    } else current.push(t);
  }
  if (current.length > 0) params.push(current);
  return params.filter((p) => p.length > 0);
}

function exceptHandler(ll: LogicalLine, issues: Issue[]): Scope['handler'] {
  const tokens = ll.tokens;
  const colon = colonAt(tokens);
  if (colon === 1) {
    issues.push({ rule: 'bare-except', severity: 'warning', line: ll.line, message: 'Bare `except:` also catches KeyboardInterrupt and SystemExit; name the exceptions' });
  }
  const inline = tokens.slice(colon + 1);
  return inline.length > 0
    ? { line: ll.line, statements: 1, onlyPass: isPass(inline), endLine: ll.endLine }
    : { line: ll.line, statements: 0, onlyPass: true, endLine: ll.endLine };
}

function lineIssues(ll: LogicalLine, issues: Issue[]): void {
  const t = ll.tokens;
  if (keyword(t, 0) === 'from' && t.some((x, i) => x.value === '*' && keyword(t, i - 1) === 'import')) {
    issues.push({ rule: 'wildcard-import', severity: 'info', line: ll.line, message: '`import *` hides where names come from' });
  }
  for (let i = 1; i < t.length; i++) {
    if ((t[i - 1].value === '==' || t[i - 1].value === '!=') && t[i].kind === 'name' && t[i].value === 'None') {
      issues.push({ rule: 'none-comparison', severity: 'info', line: t[i].line, message: 'Compare with None using `is` / `is not`' });
    }
  }
}
