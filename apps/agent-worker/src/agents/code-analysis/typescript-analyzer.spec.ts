import { analyzeTypeScript } from './typescript-analyzer';

const rules = (issues: Array<{ rule: string; line?: number }>) => issues.map((i) => `${i.rule}@${i.line}`);

describe('analyzeTypeScript', () => {
  it('computes per-function complexity, nesting, length and parameters', () => {
    const code = [
      'export function classify(n: number, flag?: boolean): string {', // 1
      '  if (n < 0) {', //                         if            +1
      "    return 'neg';",
      '  } else if (n === 0 && flag) {', //         else-if, &&   +2
      "    return 'zero';",
      '  } else {',
      '    for (const x of [1, 2]) {', //            for-of        +1
      '      while (x > n || n > 100) {', //         while, ||     +2
      '        n--;',
      '      }',
      '    }',
      '  }',
      "  return n > 10 ? 'big' : flag ?? 'small';", // ?:, ??     +2
      '}',
    ].join('\n');
    const m = analyzeTypeScript(code, 'typescript');
    expect(m.functions).toEqual([{ name: 'classify', line: 1, complexity: 9, lines: 14, params: 2, maxNesting: 3 }]);
    expect(m.cyclomaticComplexity).toBe(9);
    expect(m.maxNesting).toBe(3);
  });

  it('counts switch cases (not default), catch and short-circuit assignment; not optional chaining', () => {
    const code = `function f(a: any, b?: { c?: number }) {
  switch (a) {
    case 1: return b?.c;
    case 2: return b?.c?.toFixed();
    default: a ||= 3;
  }
  try { return a; } catch (e) { throw e; }
}`;
    const [fn] = analyzeTypeScript(code, 'typescript').functions;
    expect(fn.complexity).toBe(1 + 2 + 1 + 1);
    expect(fn.maxNesting).toBe(1);
  });

  it('keeps nested functions apart and names them from where they are stored', () => {
    const code = `class Cart {
  total(items: number[], tax = 0) {
    const add = (a: number, b: number) => (a > 0 ? a + b : b);
    return items.reduce(add, 0) * (tax || 1);
  }
  get size() { return 0; }
  constructor(private readonly id: string) {}
}
const handlers = { onClick: function () { if (x) y(); } };
module.exports.run = () => {};`;
    const fns = analyzeTypeScript(code, 'typescript').functions;
    expect(fns.map((f) => [f.name, f.complexity, f.params])).toEqual([
      ['Cart.total', 2, 2],
      ['add', 2, 2],
      ['Cart.get size', 1, 0],
      ['Cart.constructor', 1, 1],
      ['onClick', 2, 0],
      ['module.exports.run', 1, 0],
    ]);
  });

  it('does not count keywords inside strings, templates, regexes or comments', () => {
    const code = [
      '// if (a && b) { while (c) {} }',
      '/* for (;;) { if (x) {} } */',
      'const s = "if (a || b) ? c : d";',
      'const t = `while ${"x"} && for`;',
      'const r = /if|while|&&/;',
    ].join('\n');
    const m = analyzeTypeScript(code, 'javascript');
    expect(m.cyclomaticComplexity).toBe(1);
    expect(m).toMatchObject({ linesOfCode: 3, commentLines: 2, blankLines: 0, totalLines: 5 });
  });

  it('classifies lines: code with trailing comments, block and JSDoc comments, blanks, multi-line templates', () => {
    const code = [
      '/**', //                                  comment
      ' * Adds.', //                              comment
      ' */', //                                   comment
      'function add(a, b) { // trailing', //      code
      '',
      '  const s = `line one', //                 code
      'line two`;', //                            code
      '  return a + b;', //                       code
      '}', //                                     code
    ].join('\n');
    expect(analyzeTypeScript(code, 'javascript')).toMatchObject({ linesOfCode: 5, commentLines: 3, blankLines: 1, totalLines: 9 });
  });

  it('reports any, console.log, empty catch, loose equality, var, debugger and TODOs with their lines', () => {
    const code = [
      'function f(x: any) {', //                   1 any
      '  console.log(x == 1, x == null);', //       2 console, == (== null is allowed)
      '  try { g(); } catch {}', //                 3 empty catch
      '  try { g(); } catch { /* expected */ }', // 4 commented: fine
      '  var y = x != 2;', //                       5 var, !=
      '  debugger;', //                             6
      '  // TODO: remove', //                       7
      '}',
    ].join('\n');
    expect(rules(analyzeTypeScript(code, 'typescript').issues)).toEqual([
      'no-explicit-any@1',
      'no-console-log@2',
      'eqeqeq@2',
      'empty-catch@3',
      'no-var@5',
      'eqeqeq@5',
      'no-debugger@6',
      'todo-comment@7',
    ]);
  });

  it('parses JSX in tsx and javascript', () => {
    const code = 'export const App = ({ ok }: { ok: boolean }) => <div>{ok ? <b>yes</b> : "no"}</div>;';
    const m = analyzeTypeScript(code, 'tsx');
    expect(m.functions).toEqual([expect.objectContaining({ name: 'App', complexity: 2, params: 1 })]);
    expect(m.issues.filter((i) => i.rule === 'syntax-error')).toEqual([]);
    expect(analyzeTypeScript('const A = () => <p>{a && b}</p>;', 'javascript').cyclomaticComplexity).toBe(2);
  });

  it('flags code that does not parse but still measures it', () => {
    const m = analyzeTypeScript('const x = ;\nif (a) {}\n', 'typescript');
    expect(m.issues[0]).toMatchObject({ rule: 'syntax-error', severity: 'info', line: 1 });
    expect(m.cyclomaticComplexity).toBe(2);
  });
});
