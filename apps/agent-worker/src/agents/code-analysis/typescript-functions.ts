/**
 * Which TypeScript/JavaScript nodes are functions, what they are called and how many parameters
 * they take. Names come from the declaration, or from where an anonymous function is stored.
 */
import * as ts from 'typescript';

export type TsFunction =
  | ts.FunctionDeclaration
  | ts.FunctionExpression
  | ts.ArrowFunction
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration;

export function isTsFunction(node: ts.Node): node is TsFunction {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

/** Declared parameters, not counting a TypeScript `this` parameter. */
export function parameterCount(fn: TsFunction): number {
  return fn.parameters.filter((p) => !(ts.isIdentifier(p.name) && p.name.text === 'this')).length;
}

const MAX_NAME = 80;

export function functionName(fn: TsFunction, sf: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(fn)) return qualify(fn, 'constructor');
  const own = fn.name ? propertyName(fn.name, sf) : undefined;
  if (ts.isGetAccessorDeclaration(fn)) return qualify(fn, `get ${own ?? ''}`.trim());
  if (ts.isSetAccessorDeclaration(fn)) return qualify(fn, `set ${own ?? ''}`.trim());
  if (own !== undefined) return ts.isMethodDeclaration(fn) ? qualify(fn, own) : own;
  return storedUnder(fn, sf) ?? '<anonymous>';
}

/** The name an anonymous function gets from what holds it: `const f = () => ...`, `obj.f = function () {}`. */
function storedUnder(fn: TsFunction, sf: ts.SourceFile): string | undefined {
  let holder: ts.Node = fn.parent;
  while (ts.isParenthesizedExpression(holder) || ts.isAsExpression(holder) || ts.isSatisfiesExpression(holder)) {
    holder = holder.parent;
  }
  if (ts.isVariableDeclaration(holder) && ts.isIdentifier(holder.name)) return holder.name.text;
  if (ts.isPropertyAssignment(holder)) return propertyName(holder.name, sf);
  if (ts.isPropertyDeclaration(holder)) return qualify(holder, propertyName(holder.name, sf));
  if (ts.isBinaryExpression(holder) && holder.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
    return clip(holder.left.getText(sf));
  }
  if (ts.isExportAssignment(holder)) return 'default';
  return undefined;
}

function propertyName(name: ts.PropertyName | ts.BindingName, sf: ts.SourceFile): string {
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) {
    return name.text;
  }
  return clip(name.getText(sf));
}

/** `Class.member` for class members of a named class; the bare name otherwise. */
function qualify(member: ts.Node, name: string): string {
  const owner = member.parent;
  if ((ts.isClassDeclaration(owner) || ts.isClassExpression(owner)) && owner.name) return `${owner.name.text}.${name}`;
  return name;
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > MAX_NAME ? `${oneLine.slice(0, MAX_NAME - 1)}…` : oneLine;
}
