/**
 * The report-wide summary: totals over the blocks and their suggestions, each prefixed with
 * its block when there are several.
 */
import type { AnalysisSummary, BlockAnalysis } from './types';

export function summarize(blocks: BlockAnalysis[]): AnalysisSummary {
  const several = blocks.length > 1;
  const suggestions: string[] = [];
  blocks.forEach((b, i) => {
    for (const s of b.suggestions) suggestions.push(several ? `Block ${i + 1} (${b.language}): ${s}` : s);
  });
  return {
    blocks: blocks.length,
    linesOfCode: blocks.reduce((sum, b) => sum + b.linesOfCode, 0),
    cyclomaticComplexity: blocks.reduce((sum, b) => sum + b.cyclomaticComplexity, 0),
    maxFunctionComplexity: blocks.reduce((max, b) => b.functions.reduce((m, f) => Math.max(m, f.complexity), max), 0),
    suggestions,
  };
}
