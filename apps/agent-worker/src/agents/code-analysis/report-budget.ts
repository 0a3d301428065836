/**
 * Keeps a report small enough to travel and be stored with its task (NATS messages are limited
 * to 1 MiB, and the task record also holds the input). Per-block caps usually suffice; if the
 * report is still over budget, each block keeps the first issue of each rule (suggestions keep
 * the counts) and its ten most complex functions.
 */
import { mostComplex } from './most-complex';
import type { AnalysisReport, Issue } from './types';

export const MAX_REPORT_BYTES = 256 * 1024;
const FUNCTIONS_WHEN_TRIMMED = 10;

export function fitReport(report: AnalysisReport, maxBytes = MAX_REPORT_BYTES): AnalysisReport {
  if (Buffer.byteLength(JSON.stringify(report), 'utf8') <= maxBytes) return report;
  return {
    ...report,
    blocks: report.blocks.map((b) => ({ ...b, functions: mostComplex(b.functions, FUNCTIONS_WHEN_TRIMMED), issues: onePerRule(b.issues) })),
  };
}

/** The first finding of each rule; the suggestions still carry the full counts. */
function onePerRule(issues: Issue[]): Issue[] {
  const byRule = new Map<string, { first: Issue; more: boolean }>();
  for (const issue of issues) {
    const seen = byRule.get(issue.rule);
    if (seen) seen.more = true;
    else byRule.set(issue.rule, { first: issue, more: false });
  }
  return [...byRule.values()].map(({ first, more }) => (more ? { ...first, message: `${first.message} (further findings of this rule dropped to keep the result small)` } : first));
}
