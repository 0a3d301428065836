/**
 * Per-node findings for TypeScript/JavaScript: decision points (for cyclomatic complexity),
 * control structures that nest, and lint-style issues.
 *
 * Decision points (+1 each): if (so `else if` counts once more), `?:`, `case` (not `default`),
 * for / for-in / for-of / while / do-while, catch, and the short-circuit operators
 * `&&`, `||`, `??` and their assignment forms. Optional chaining (`a?.b`) is not counted.
 */
import * as ts from 'typescript';
import type { Issue } from './types';

const SHORT_CIRCUIT = new Set<ts.SyntaxKind>([
  ts.SyntaxKind.AmpersandAmpersandToken,
  ts.SyntaxKind.BarBarToken,
  ts.SyntaxKind.QuestionQuestionToken,
  ts.SyntaxKind.AmpersandAmpersandEqualsToken,
  ts.SyntaxKind.BarBarEqualsToken,
  ts.SyntaxKind.QuestionQuestionEqualsToken,
]);

const BRANCHING = new Set<ts.SyntaxKind>([
  ts.SyntaxKind.IfStatement,
  ts.SyntaxKind.ConditionalExpression,
  ts.SyntaxKind.CaseClause,
  ts.SyntaxKind.ForStatement,
  ts.SyntaxKind.ForInStatement,
  ts.SyntaxKind.ForOfStatement,
  ts.SyntaxKind.WhileStatement,
  ts.SyntaxKind.DoStatement,
  ts.SyntaxKind.CatchClause,
]);

/** Statements whose bodies sit one nesting level deeper. `if` is handled apart so `else if` does not nest. */
const NESTING = new Set<ts.SyntaxKind>([
  ts.SyntaxKind.ForStatement,
  ts.SyntaxKind.ForInStatement,
  ts.SyntaxKind.ForOfStatement,
  ts.SyntaxKind.WhileStatement,
  ts.SyntaxKind.DoStatement,
  ts.SyntaxKind.SwitchStatement,
  ts.SyntaxKind.TryStatement,
  ts.SyntaxKind.WithStatement,
]);

export function decisionPoints(node: ts.Node): number {
  if (BRANCHING.has(node.kind)) return 1;
  if (ts.isBinaryExpression(node) && SHORT_CIRCUIT.has(node.operatorToken.kind)) return 1;
  return 0;
}

export function isNestingStatement(node: ts.Node): boolean {
  return NESTING.has(node.kind);
}

const DEBUG_CONSOLE = new Set(['log', 'debug', 'trace']);

/**
 * Lint-style findings on one node. `line` maps a position to its 1-based line.
 * `== null` / `!= null` is allowed (it deliberately matches null and undefined).
 */
export function nodeIssues(node: ts.Node, sf: ts.SourceFile, line: (pos: number) => number): Issue[] {
  const at = () => line(node.getStart(sf));
  switch (node.kind) {
    case ts.SyntaxKind.AnyKeyword:
      return [{ rule: 'no-explicit-any', severity: 'warning', line: at(), message: '`any` turns off type checking here; use a specific type or `unknown`' }];
    case ts.SyntaxKind.DebuggerStatement:
      return [{ rule: 'no-debugger', severity: 'warning', line: at(), message: '`debugger` statement left in the code' }];
    case ts.SyntaxKind.CatchClause:
      return isEmptyBlock((node as ts.CatchClause).block, sf)
        ? [{ rule: 'empty-catch', severity: 'warning', line: at(), message: 'Empty catch block silently swallows the error' }]
        : [];
    case ts.SyntaxKind.VariableDeclarationList:
      return (node.flags & ts.NodeFlags.BlockScoped) === 0
        ? [{ rule: 'no-var', severity: 'info', line: at(), message: '`var` is function-scoped; prefer `const` or `let`' }]
        : [];
    case ts.SyntaxKind.BinaryExpression:
      return looseEquality(node as ts.BinaryExpression, at);
    case ts.SyntaxKind.CallExpression:
      return consoleCall(node as ts.CallExpression, at);
    default:
      return [];
  }
}

function looseEquality(node: ts.BinaryExpression, at: () => number): Issue[] {
  const op = node.operatorToken.kind;
  if (op !== ts.SyntaxKind.EqualsEqualsToken && op !== ts.SyntaxKind.ExclamationEqualsToken) return [];
  const isNull = (e: ts.Expression) => e.kind === ts.SyntaxKind.NullKeyword;
  if (isNull(node.left) || isNull(node.right)) return [];
  const strict = op === ts.SyntaxKind.EqualsEqualsToken ? '===' : '!==';
  return [{ rule: 'eqeqeq', severity: 'warning', line: at(), message: `Loose equality coerces types; use \`${strict}\`` }];
}

function consoleCall(node: ts.CallExpression, at: () => number): Issue[] {
  const callee = node.expression;
  if (
    ts.isPropertyAccessExpression(callee) &&
    ts.isIdentifier(callee.expression) &&
    callee.expression.text === 'console' &&
    DEBUG_CONSOLE.has(callee.name.text)
  ) {
    return [{ rule: 'no-console-log', severity: 'info', line: at(), message: `\`console.${callee.name.text}\` call; use a logger or remove it` }];
  }
  return [];
}

/** No statements and no comment between the braces (a comment documents a deliberate ignore). */
function isEmptyBlock(block: ts.Block, sf: ts.SourceFile): boolean {
  if (block.statements.length > 0) return false;
  const inner = sf.text.slice(block.getStart(sf) + 1, block.end - 1);
  return (ts.getLeadingCommentRanges(inner, 0)?.length ?? 0) === 0;
}
