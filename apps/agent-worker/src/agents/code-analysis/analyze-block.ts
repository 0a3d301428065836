/**
 * Sends a block to the analyzer for its language, caps repetitive issues, and adds suggestions.
 */
import { analyzeGeneric } from './generic-analyzer';
import { analyzePython } from './python-analyzer';
import { suggestionsFor } from './suggestions';
import type { BlockAnalysis, BlockMetrics, CodeBlock, FunctionMetrics, Issue } from './types';
import { analyzeTypeScript } from './typescript-analyzer';
import { mostComplex } from './most-complex';

/** Issues listed per rule and block; suggestions still count every occurrence. */
export const MAX_ISSUES_PER_RULE = 10;
/** Functions listed per block: the most complex ones, in line order. Keeps results within message limits. */
export const MAX_FUNCTIONS_LISTED = 50;

export function analyzeBlock(block: CodeBlock): BlockAnalysis {
  const metrics = measure(block);
  const suggestions = suggestionsFor(metrics);
  const issues = capIssues(metrics.issues);
  const functions = mostComplex(metrics.functions, MAX_FUNCTIONS_LISTED);
  const omitted = metrics.functions.length - functions.length;
  if (omitted > 0) issues.push({ rule: 'functions-truncated', severity: 'info', message: `${omitted} simpler functions not listed` });
  return { ...metrics, functions, issues, suggestions };
}

/** The `n` most complex functions (earlier first on ties), back in line order. */
function measure(block: CodeBlock): BlockMetrics {
  try {
    return measureWithParser(block);
  } catch (e) {
    // The TypeScript parser recurses per nesting level; absurdly deep code overflows the stack.
    // The generic scanner is iterative, so it still gives approximate numbers.
    if (!(e instanceof RangeError)) throw e;
    const metrics = analyzeGeneric(block.code, 'unknown');
    const issues = metrics.issues.filter((i) => i.rule !== 'generic-analysis');
    issues.unshift({ rule: 'analysis-fallback', severity: 'info', message: `Too deeply nested to parse as ${block.language}; counted with generic C-style rules, so numbers are approximate` });
    return { ...metrics, language: block.language, issues };
  }
}

function measureWithParser({ language, code }: CodeBlock): BlockMetrics {
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
