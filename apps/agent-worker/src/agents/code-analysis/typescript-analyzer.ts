/**
 * TypeScript/JavaScript analysis on the real syntax tree (`ts.createSourceFile`, no type checking):
 * per-function complexity, nesting, length and parameters; code and comment lines from the tokens
 * and their comment trivia; lint-style issues from typescript-rules.ts.
 */
import * as ts from 'typescript';
import { LineTally, TODO_PATTERN } from './line-tally';
import type { BlockMetrics, FunctionMetrics, Issue } from './types';
import { decisionPoints, isNestingStatement, nodeIssues } from './typescript-rules';
import { functionName, isTsFunction, parameterCount } from './typescript-functions';
import type { TsFunction } from './typescript-functions';

export type TsLanguage = 'typescript' | 'tsx' | 'javascript';

const SCRIPT_KINDS: Record<TsLanguage, [ts.ScriptKind, string]> = {
  typescript: [ts.ScriptKind.TS, 'ts'],
  tsx: [ts.ScriptKind.TSX, 'tsx'],
  javascript: [ts.ScriptKind.JS, 'js'],
};

interface Frame {
  decisions: number;
  maxNesting: number;
}

export function analyzeTypeScript(code: string, language: TsLanguage): BlockMetrics {
  return new TypeScriptAnalysis(code, language).run();
}

class TypeScriptAnalysis {
  private readonly sf: ts.SourceFile;
  private readonly functions: FunctionMetrics[] = [];
  private readonly issues: Issue[] = [];
  private readonly top: Frame = { decisions: 0, maxNesting: 0 };
  private totalDecisions = 0;

  constructor(code: string, private readonly language: TsLanguage) {
    const [kind, ext] = SCRIPT_KINDS[language];
    this.sf = ts.createSourceFile(`block.${ext}`, code, ts.ScriptTarget.Latest, true, kind);
  }

  run(): BlockMetrics {
    this.syntaxIssue();
    ts.forEachChild(this.sf, (child) => this.visit(child, this.top, 0));
    const tally = this.tallyLines();
    const maxNesting = this.functions.reduce((max, f) => Math.max(max, f.maxNesting), this.top.maxNesting);
    this.functions.sort((a, b) => a.line - b.line);
    return {
      language: this.language,
      ...tally.counts(),
      cyclomaticComplexity: 1 + this.totalDecisions,
      functions: this.functions,
      maxNesting,
      issues: this.issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
    };
  }

  private line(pos: number): number {
    return this.sf.getLineAndCharacterOfPosition(pos).line + 1;
  }

  private visit(node: ts.Node, frame: Frame, depth: number): void {
    if (isTsFunction(node)) {
      this.visitFunction(node);
      return;
    }
    const decisions = decisionPoints(node);
    frame.decisions += decisions;
    this.totalDecisions += decisions;
    this.issues.push(...nodeIssues(node, this.sf, (pos) => this.line(pos)));

    if (ts.isIfStatement(node)) {
      frame.maxNesting = Math.max(frame.maxNesting, depth + 1);
      this.visit(node.expression, frame, depth);
      this.visit(node.thenStatement, frame, depth + 1);
      // `else if` continues the same chain: it sits at the `if`'s own depth.
      if (node.elseStatement) this.visit(node.elseStatement, frame, ts.isIfStatement(node.elseStatement) ? depth : depth + 1);
      return;
    }
    const inner = isNestingStatement(node) ? depth + 1 : depth;
    frame.maxNesting = Math.max(frame.maxNesting, inner);
    ts.forEachChild(node, (child) => this.visit(child, frame, inner));
  }

  private visitFunction(fn: TsFunction): void {
    const frame: Frame = { decisions: 0, maxNesting: 0 };
    ts.forEachChild(fn, (child) => this.visit(child, frame, 0));
    const start = this.line(fn.getStart(this.sf));
    this.functions.push({
      name: functionName(fn, this.sf),
      line: start,
      complexity: 1 + frame.decisions,
      lines: this.line(fn.end) - start + 1,
      params: parameterCount(fn),
      maxNesting: frame.maxNesting,
    });
  }

  /** Parse errors do not stop the analysis (the tree is recovered), but the numbers may be off. */
  private syntaxIssue(): void {
    const diagnostics = (this.sf as unknown as { parseDiagnostics?: readonly ts.DiagnosticWithLocation[] }).parseDiagnostics ?? [];
    const first = diagnostics[0];
    if (!first) return;
    this.issues.push({
      rule: 'syntax-error',
      severity: 'info',
      line: this.line(first.start),
      message: `Does not parse as ${this.language} (${ts.flattenDiagnosticMessageText(first.messageText, ' ')}); metrics are approximate`,
    });
  }

  /** Walks every token: code lines from the tokens, comment lines (and TODOs) from their trivia. */
  private tallyLines(): LineTally {
    const text = this.sf.text;
    const starts = this.sf.getLineStarts();
    const lines = starts.map((s, i) => text.slice(s, i + 1 < starts.length ? starts[i + 1] : text.length));
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    const tally = new LineTally(lines);
    const seen = new Set<number>();
    const comments = (ranges: ts.CommentRange[] | undefined) => {
      for (const c of ranges ?? []) {
        if (seen.has(c.pos)) continue;
        seen.add(c.pos);
        tally.markComment(this.line(c.pos), this.line(c.end));
        const todo = TODO_PATTERN.exec(text.slice(c.pos, c.end));
        if (todo) {
          const line = this.line(c.pos + todo.index);
          this.issues.push({ rule: 'todo-comment', severity: 'info', line, message: `${todo[1]} comment: unfinished work` });
        }
      }
    };
    const walk = (node: ts.Node): void => {
      if (node.kind >= ts.SyntaxKind.FirstJSDocNode && node.kind <= ts.SyntaxKind.LastJSDocNode) return;
      const children = node.getChildren(this.sf);
      if (children.length > 0) {
        children.forEach(walk);
        return;
      }
      comments(ts.getLeadingCommentRanges(text, node.pos));
      comments(ts.getTrailingCommentRanges(text, node.end));
      const start = node.getStart(this.sf);
      const hasText = ts.isJsxText(node) ? node.text.trim() !== '' : node.end > start;
      if (hasText && node.kind !== ts.SyntaxKind.EndOfFileToken) tally.markCode(this.line(start), this.line(node.end));
    };
    walk(this.sf);
    return tally;
  }
}
