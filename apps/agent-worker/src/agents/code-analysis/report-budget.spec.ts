import { fitReport } from './report-budget';
import type { AnalysisReport, BlockAnalysis } from './types';

const block = (functions: number, issuesPerRule: number): BlockAnalysis => ({
  language: 'typescript',
  linesOfCode: 1,
  commentLines: 0,
  blankLines: 0,
  totalLines: 1,
  cyclomaticComplexity: 1,
  maxNesting: 0,
  functions: Array.from({ length: functions }, (_, i) => ({ name: `f${i}`, line: i + 1, complexity: (i % 7) + 1, lines: 1, params: 0, maxNesting: 0 })),
  issues: ['a', 'b'].flatMap((rule) => Array.from({ length: issuesPerRule }, (_, i) => ({ rule, severity: 'info' as const, line: i + 1, message: `finding ${i}` }))),
  suggestions: ['Keep going (3 found).'],
});
const report = (blocks: BlockAnalysis[]): AnalysisReport => ({
  blocks,
  skipped: [],
  summary: { blocks: blocks.length, linesOfCode: 1, cyclomaticComplexity: 1, maxFunctionComplexity: 7, suggestions: [] },
});

describe('fitReport', () => {
  it('leaves a report within budget untouched', () => {
    const r = report([block(3, 2)]);
    expect(fitReport(r)).toBe(r);
  });

  it('keeps one issue per rule and the most complex functions when over budget', () => {
    const r = report([block(40, 5), block(2, 1)]);
    const small = fitReport(r, 1_000);
    expect(small.blocks[0].functions).toHaveLength(10);
    expect(small.blocks[0].functions.every((f) => f.complexity >= 6)).toBe(true);
    expect(small.blocks[0].functions.map((f) => f.line)).toEqual([...small.blocks[0].functions.map((f) => f.line)].sort((a, b) => a - b));
    expect(small.blocks[0].issues).toEqual([
      { rule: 'a', severity: 'info', line: 1, message: 'finding 0 (further findings of this rule dropped to keep the result small)' },
      { rule: 'b', severity: 'info', line: 1, message: 'finding 0 (further findings of this rule dropped to keep the result small)' },
    ]);
    expect(small.blocks[1].issues.map((i) => i.message)).toEqual(['finding 0', 'finding 0']);
    expect(small.blocks[0].suggestions).toEqual(['Keep going (3 found).']);
    expect(small.summary).toBe(r.summary);
  });
});
