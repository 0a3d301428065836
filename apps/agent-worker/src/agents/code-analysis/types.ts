/**
 * Result shapes of the `code-analysis` agent. Everything here is plain JSON-serialisable data.
 */

export type Severity = 'info' | 'warning';

export interface Issue {
  /** Stable rule id, e.g. `no-explicit-any`, `empty-catch`, `todo-comment`. */
  rule: string;
  message: string;
  /** 1-based line within the analysed block. */
  line?: number;
  severity: Severity;
}

export interface FunctionMetrics {
  /** Declared name; `Class.method` for methods; `<anonymous>` when nothing names it. */
  name: string;
  /** 1-based line of the declaration within the block. */
  line: number;
  /** 1 + decision points inside the function, excluding nested functions (they are listed on their own). */
  complexity: number;
  /** Physical lines from the declaration to the end of the body. */
  lines: number;
  params: number;
  /** Deepest nesting of control structures (if, loops, switch/match, try/catch, with) inside the body. */
  maxNesting: number;
}

export interface LineCounts {
  /** Lines holding at least one code token (a line with code and a trailing comment counts here). */
  linesOfCode: number;
  /** Lines holding only comments (and, for Python, docstrings). */
  commentLines: number;
  blankLines: number;
  totalLines: number;
}

/** What a language analyzer measures; suggestions are added afterwards from these numbers. */
export interface BlockMetrics extends LineCounts {
  language: string;
  /** The whole block taken as one routine: 1 + every decision point in it. */
  cyclomaticComplexity: number;
  functions: FunctionMetrics[];
  maxNesting: number;
  issues: Issue[];
}

export interface BlockAnalysis extends BlockMetrics {
  suggestions: string[];
}

export interface SkippedBlock {
  /** 0-based position among the fenced blocks of the message. */
  index: number;
  language: string;
  reason: string;
}

export interface AnalysisSummary {
  blocks: number;
  linesOfCode: number;
  cyclomaticComplexity: number;
  /** Highest complexity of any single function; 0 when no function was found. */
  maxFunctionComplexity: number;
  suggestions: string[];
}

export interface AnalysisReport {
  blocks: BlockAnalysis[];
  summary: AnalysisSummary;
  /** Fenced blocks that hold data or prose (json, yaml, text, ...) rather than code. */
  skipped: SkippedBlock[];
}

/** A piece of code to analyse, with its language already normalised (see language-detection.ts). */
export interface CodeBlock {
  language: string;
  code: string;
}
