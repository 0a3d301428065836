import { analyzePython } from './python-analyzer';

const rules = (issues: Array<{ rule: string; line?: number }>) => issues.map((i) => `${i.rule}@${i.line}`);

describe('analyzePython', () => {
  it('computes per-function complexity, nesting, length and parameters', () => {
    const code = [
      'def grade(score, bonus, *args, **kw):', //   1
      '    if score > 90 and bonus:', //              if, and       +2
      "        return 'A'",
      '    elif score > 80:', //                      elif          +1
      '        for i in range(3):', //                for           +1
      '            while i:', //                      while         +1
      '                i -= 1',
      '    else:',
      '        try:',
      '            pass',
      '        except ValueError:', //                except        +1
      '            raise',
      '    return [x for x in args if x] or None', // for, if, or   +3
    ].join('\n');
    const m = analyzePython(code);
    expect(m.functions).toEqual([{ name: 'grade', line: 1, complexity: 10, lines: 13, params: 4, maxNesting: 3 }]);
    expect(m.cyclomaticComplexity).toBe(10);
  });

  it('skips keywords in strings (incl. triple-quoted and prefixed), comments and docstrings', () => {
    const code = [
      '"""Module docstring: if and or while."""',
      'def f(x):',
      "    '''Docstring",
      "    if this were code, for sure'''",
      '    s = "if a and b or c"  # if in a comment',
      "    t = rb'for' + f'{x} while'",
      '    u = """',
      '    elif',
      '    """',
      '    return s',
    ].join('\n');
    const m = analyzePython(code);
    expect(m.cyclomaticComplexity).toBe(1);
    expect(m.functions[0]).toMatchObject({ name: 'f', line: 2, complexity: 1, lines: 9 });
    expect(m).toMatchObject({ linesOfCode: 7, commentLines: 3, blankLines: 0, totalLines: 10 });
  });

  it('finds function extents by indentation, including nested defs, methods and continuation lines', () => {
    const code = [
      'class Shop:',
      '    def add(self, item,',
      '            qty=1):',
      '        def check(n):',
      '            return n > 0 and n < 100',
      '        if check(qty):',
      '            self.items.append(item)',
      '',
      '    @staticmethod',
      '    def empty(): return []',
      '',
      'def top(): pass',
    ].join('\n');
    const fns = analyzePython(code).functions;
    expect(fns.map((f) => [f.name, f.line, f.lines, f.params, f.complexity, f.maxNesting])).toEqual([
      ['Shop.add', 2, 6, 2, 2, 1],
      ['check', 4, 2, 1, 2, 0],
      ['Shop.empty', 10, 1, 0, 1, 0],
      ['top', 12, 1, 0, 1, 0],
    ]);
  });

  it('counts match cases except the wildcard, and ternaries', () => {
    const code = ['def f(cmd):', '    match cmd:', '        case "go":', '            return 1 if fast else 2', '        case _:', '            return 0'].join('\n');
    const [fn] = analyzePython(code).functions;
    expect(fn).toMatchObject({ complexity: 3, maxNesting: 1 });
  });

  it('reports bare and empty except, mutable defaults, None comparison, wildcard imports and TODOs', () => {
    const code = [
      'from os import *', //                          1
      'def f(a, b=[], c={}, d=list()):', //            2 three mutable defaults
      '    # TODO: tidy', //                           3
      '    try:',
      '        g()',
      '    except:', //                                6 bare + empty
      '        pass',
      '    try:',
      '        g()',
      '    except KeyError:', //                       10 commented: fine
      '        pass  # missing keys are expected',
      '    return a == None', //                       12
    ].join('\n');
    expect(rules(analyzePython(code).issues)).toEqual([
      'wildcard-import@1',
      'mutable-default@2',
      'mutable-default@2',
      'mutable-default@2',
      'todo-comment@3',
      'bare-except@6',
      'empty-except@6',
      'none-comparison@12',
    ]);
  });

  it('counts top-level nesting for scripts without functions', () => {
    const code = ['for a in x:', '    with open(a) as f:', '        if f:', '            while True:', '                break'].join('\n');
    expect(analyzePython(code)).toMatchObject({ functions: [], maxNesting: 4, cyclomaticComplexity: 4 });
  });
});
