import { analyzeBlock, MAX_FUNCTIONS_LISTED, MAX_ISSUES_PER_RULE } from './analyze-block';

describe('analyzeBlock', () => {
  it('routes each language to its analyzer and adds suggestions', () => {
    expect(analyzeBlock({ language: 'typescript', code: 'let x: any = 1;' }).issues.map((i) => i.rule)).toEqual(['no-explicit-any']);
    expect(analyzeBlock({ language: 'python', code: 'def f(x=[]): pass' }).issues.map((i) => i.rule)).toEqual(['mutable-default']);
    const java = analyzeBlock({ language: 'java', code: 'class A { void f() { try { g(); } catch (E e) {} } }' });
    expect(java.issues.map((i) => i.rule)).toEqual(['empty-catch']);
    expect(java.suggestions).toEqual([expect.stringMatching(/empty catch blocks.*\(1 found\)\.$/)]);
  });

  it('lists at most MAX_ISSUES_PER_RULE issues per rule but counts them all in suggestions', () => {
    const code = Array.from({ length: MAX_ISSUES_PER_RULE + 5 }, (_, i) => `let v${i}: any;`).join('\n');
    const out = analyzeBlock({ language: 'typescript', code });
    expect(out.issues.filter((i) => i.rule === 'no-explicit-any' && i.line !== undefined)).toHaveLength(MAX_ISSUES_PER_RULE);
    expect(out.issues[out.issues.length - 1]).toEqual({ rule: 'no-explicit-any', severity: 'info', message: '5 more `no-explicit-any` findings not listed' });
    expect(out.suggestions[0]).toContain(`(${MAX_ISSUES_PER_RULE + 5} found)`);
  });

  it(`lists the ${MAX_FUNCTIONS_LISTED} most complex functions in line order`, () => {
    const count = MAX_FUNCTIONS_LISTED + 10;
    // Every fifth function has an `if`, so those must all survive the cut.
    const code = Array.from({ length: count }, (_, i) => `function f${i}(a) { ${i % 5 === 0 ? 'if (a) a();' : ''} }`).join('\n');
    const out = analyzeBlock({ language: 'javascript', code });
    expect(out.functions).toHaveLength(MAX_FUNCTIONS_LISTED);
    expect(out.functions.filter((f) => f.complexity === 2)).toHaveLength(count / 5);
    expect(out.functions.map((f) => f.line)).toEqual([...out.functions.map((f) => f.line)].sort((a, b) => a - b));
    expect(out.issues).toContainEqual({ rule: 'functions-truncated', severity: 'info', message: '10 simpler functions not listed' });
  });

  it('falls back to the generic scanner when code is too deeply nested to parse', () => {
    const depth = 50_000;
    const code = `${'if (a) {'.repeat(depth)}${'}'.repeat(depth)}`;
    const out = analyzeBlock({ language: 'javascript', code });
    expect(out.language).toBe('javascript');
    expect(out.issues[0]).toMatchObject({ rule: 'analysis-fallback', severity: 'info' });
    expect(out.cyclomaticComplexity).toBe(depth + 1);
    expect(out.maxNesting).toBe(depth);
  });
});
