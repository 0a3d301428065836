/**
 * Plain-language suggestions from the measured numbers and the issues found.
 *
 * Thresholds (a suggestion appears when a value is strictly above the limit, or below for ratios):
 * - function cyclomatic complexity > 10: split the function (McCabe's original limit)
 * - function length > 50 lines: extract helpers
 * - parameters > 5: group them into an object
 * - nesting depth > 4: flatten with guard clauses / early returns
 * - whole-block complexity > 20 with no functions: break the script into functions
 * - comment lines < 5% of code lines, once a block has more than 30 lines of code: document it
 * - one suggestion per issue rule found (any, console.log, empty catch, ==, TODO, bare except, ...)
 */
import type { BlockMetrics, FunctionMetrics } from './types';

export const THRESHOLDS = {
  functionComplexity: 10,
  functionLines: 50,
  params: 5,
  nesting: 4,
  scriptComplexity: 20,
  minCommentRatio: 0.05,
  commentRatioMinLoc: 30,
} as const;

/** At most this many functions are named per threshold; the rest are counted. */
const MAX_NAMED = 3;

const ISSUE_ADVICE: Record<string, string> = {
  'no-explicit-any': 'Replace `any` with precise types or `unknown` so the compiler can check them',
  'no-console-log': 'Remove console debugging calls or route them through a logger',
  'empty-catch': 'Handle, log or rethrow errors in empty catch blocks; at least comment why one is ignored',
  'empty-except': 'Handle, log or re-raise exceptions in handlers that only `pass`',
  'bare-except': 'Name the exceptions you expect instead of a bare `except:`',
  eqeqeq: 'Use strict comparison (`===` / `!==`) to avoid type-coercion surprises',
  'todo-comment': 'Resolve or ticket the TODO/FIXME comments',
  'mutable-default': 'Default mutable arguments to `None` and create the value inside the function',
  'none-comparison': 'Compare with None using `is` / `is not`',
  'wildcard-import': 'Import names explicitly instead of `import *`',
  'no-var': 'Replace `var` with `const` or `let`',
  'no-debugger': 'Remove `debugger` statements',
  goto: 'Replace `goto` with structured loops or early returns',
};

export function suggestionsFor(m: BlockMetrics): string[] {
  const out: string[] = [];
  const t = THRESHOLDS;
  over(out, m.functions, (f) => f.complexity > t.functionComplexity, (names) =>
    `Split ${names} into smaller functions: cyclomatic complexity above ${t.functionComplexity} is hard to test; extract branches or replace if/else chains with lookups or early returns.`, (f) => f.complexity, 'complexity');
  over(out, m.functions, (f) => f.lines > t.functionLines, (names) =>
    `Shorten ${names}: more than ${t.functionLines} lines; extract well-named helpers.`, (f) => f.lines, 'lines');
  over(out, m.functions, (f) => f.params > t.params, (names) =>
    `Reduce the parameters of ${names} (more than ${t.params}): group related ones into an options object or type.`, (f) => f.params, 'parameters');
  const deep = m.functions.filter((f) => f.maxNesting > t.nesting);
  if (deep.length > 0) {
    over(out, deep, () => true, (names) => `Flatten the nesting in ${names} (deeper than ${t.nesting} levels) with guard clauses, early returns or extracted functions.`, (f) => f.maxNesting, 'levels');
  } else if (m.maxNesting > t.nesting) {
    out.push(`Flatten the nesting (${m.maxNesting} levels, more than ${t.nesting}) with guard clauses, early returns or extracted functions.`);
  }
  if (m.functions.length === 0 && m.cyclomaticComplexity > t.scriptComplexity) {
    out.push(`Break this code into functions: it has cyclomatic complexity ${m.cyclomaticComplexity} (over ${t.scriptComplexity}) with no function boundaries.`);
  }
  if (m.linesOfCode > t.commentRatioMinLoc && m.commentLines / m.linesOfCode < t.minCommentRatio) {
    const pct = Math.round((100 * m.commentLines) / m.linesOfCode);
    out.push(`Add comments explaining intent: ${m.commentLines} comment lines for ${m.linesOfCode} lines of code (${pct}%, below ${100 * t.minCommentRatio}%).`);
  }
  const counts = new Map<string, number>();
  for (const i of m.issues) counts.set(i.rule, (counts.get(i.rule) ?? 0) + 1);
  for (const [rule, n] of counts) {
    const advice = ISSUE_ADVICE[rule];
    if (advice) out.push(`${advice} (${n} found).`);
  }
  return out;
}

function over(
  out: string[],
  functions: FunctionMetrics[],
  test: (f: FunctionMetrics) => boolean,
  text: (names: string) => string,
  value: (f: FunctionMetrics) => number,
  unit: string,
): void {
  const hits = functions.filter(test).sort((a, b) => value(b) - value(a));
  if (hits.length === 0) return;
  const named = hits.slice(0, MAX_NAMED).map((f) => `\`${f.name}\` (line ${f.line}, ${value(f)} ${unit})`);
  const rest = hits.length - named.length;
  out.push(text(rest > 0 ? `${named.join(', ')} and ${rest} more` : named.join(', ')));
}
