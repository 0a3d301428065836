import { suggestionsFor, THRESHOLDS } from './suggestions';
import type { BlockMetrics, FunctionMetrics } from './types';

const fn = (over: Partial<FunctionMetrics> = {}): FunctionMetrics => ({ name: 'f', line: 1, complexity: 1, lines: 5, params: 1, maxNesting: 1, ...over });
const block = (over: Partial<BlockMetrics> = {}): BlockMetrics => ({
  language: 'typescript',
  linesOfCode: 10,
  commentLines: 2,
  blankLines: 0,
  totalLines: 12,
  cyclomaticComplexity: 1,
  functions: [],
  maxNesting: 0,
  issues: [],
  ...over,
});

describe('suggestionsFor', () => {
  it('says nothing about small, tidy code', () => {
    expect(suggestionsFor(block({ functions: [fn()] }))).toEqual([]);
  });

  it('triggers each function threshold only when exceeded', () => {
    const atLimit = fn({ complexity: THRESHOLDS.functionComplexity, lines: THRESHOLDS.functionLines, params: THRESHOLDS.params, maxNesting: THRESHOLDS.nesting });
    expect(suggestionsFor(block({ functions: [atLimit], maxNesting: THRESHOLDS.nesting }))).toEqual([]);

    const over = fn({ name: 'big', line: 7, complexity: 11, lines: 51, params: 6, maxNesting: 5 });
    const out = suggestionsFor(block({ functions: [over], maxNesting: 5 }));
    expect(out).toHaveLength(4);
    expect(out[0]).toMatch(/^Split `big` \(line 7, 11 complexity\) into smaller functions/);
    expect(out[1]).toMatch(/^Shorten `big` \(line 7, 51 lines\)/);
    expect(out[2]).toMatch(/^Reduce the parameters of `big` \(line 7, 6 parameters\)/);
    expect(out[3]).toMatch(/^Flatten the nesting in `big` \(line 7, 5 levels\)/);
  });

  it('names the worst three functions and counts the rest', () => {
    const functions = [12, 30, 15, 11, 20].map((complexity, i) => fn({ name: `f${i}`, line: i + 1, complexity }));
    const [text] = suggestionsFor(block({ functions }));
    expect(text).toContain('`f1` (line 2, 30 complexity), `f4` (line 5, 20 complexity), `f2` (line 3, 15 complexity) and 2 more');
  });

  it('asks for functions in a complex script and for comments in long uncommented code', () => {
    expect(suggestionsFor(block({ cyclomaticComplexity: 21 }))).toEqual([expect.stringMatching(/^Break this code into functions: it has cyclomatic complexity 21/)]);
    expect(suggestionsFor(block({ cyclomaticComplexity: 21, functions: [fn()] }))).toEqual([]);
    expect(suggestionsFor(block({ linesOfCode: 40, commentLines: 1 }))).toEqual([expect.stringMatching(/^Add comments explaining intent: 1 comment lines for 40 lines of code \(3%, below 5%\)/)]);
    expect(suggestionsFor(block({ linesOfCode: 40, commentLines: 2 }))).toEqual([]);
    expect(suggestionsFor(block({ linesOfCode: 30, commentLines: 0 }))).toEqual([]);
  });

  it('flattens deep top-level nesting when no function is to blame', () => {
    expect(suggestionsFor(block({ maxNesting: 6 }))).toEqual([expect.stringMatching(/^Flatten the nesting \(6 levels, more than 4\)/)]);
  });

  it('turns issues into one suggestion per rule with a count', () => {
    const issues = [
      { rule: 'no-explicit-any', message: '', severity: 'warning' as const, line: 1 },
      { rule: 'no-explicit-any', message: '', severity: 'warning' as const, line: 2 },
      { rule: 'todo-comment', message: '', severity: 'info' as const, line: 3 },
      { rule: 'syntax-error', message: '', severity: 'info' as const, line: 4 },
    ];
    expect(suggestionsFor(block({ issues }))).toEqual([
      'Replace `any` with precise types or `unknown` so the compiler can check them (2 found).',
      'Resolve or ticket the TODO/FIXME comments (1 found).',
    ]);
  });
});
