/**
 * Sends a block to the analyzer for its language, caps repetitive issues, and adds suggestions.
 */
import { analyzeGeneric } from './generic-analyzer';
import { analyzePython } from './python-analyzer';
import { suggestionsFor } from './suggestions';
import type { BlockAnalysis, BlockMetrics, CodeBlock, Issue } from './types';
import { analyzeTypeScript } from './typescript-analyzer';

/** Issues listed per rule and block; suggestions still count every occurrence. */
export const MAX_ISSUES_PER_RULE = 20;

export function analyzeBlock(block: CodeBlock): BlockAnalysis {
  const metrics = measure(block);
  const suggestions = suggestionsFor(metrics);
  return { ...metrics, issues: capIssues(metrics.issues), suggestions };
}

function measure({ language, code }: CodeBlock): BlockMetrics {
  switch (language) {
    case 'typescript':
    case 'tsx':
    case 'javascript':
      return analyzeTypeScript(code, language);
    case 'python':
      return analyzePython(code);
    default:
      return analyzeGeneric(code, language);
  }
}

function capIssues(issues: Issue[]): Issue[] {
  const seen = new Map<string, number>();
  const out: Issue[] = [];
  for (const issue of issues) {
    const n = (seen.get(issue.rule) ?? 0) + 1;
    seen.set(issue.rule, n);
    if (n <= MAX_ISSUES_PER_RULE) out.push(issue);
  }
  for (const [rule, n] of seen) {
    if (n > MAX_ISSUES_PER_RULE) {
      out.push({ rule, severity: 'info', message: `${n - MAX_ISSUES_PER_RULE} more \`${rule}\` findings not listed` });
    }
  }
  return out;
}
