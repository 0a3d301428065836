import { PermanentError } from '@switchboard/agent-sdk';
import { makeContext, makeTask } from '../agent-context.fixture';
import { CodeAnalysisAgent } from './code-analysis.agent';
import { MAX_BLOCKS, MAX_INPUT_BYTES } from './code-analysis-input';

const agent = new CodeAnalysisAgent();
const analyse = (input: unknown, ctx = makeContext()) => agent.handle(makeTask('code-analysis', input), ctx);
const failure = (input: unknown) => analyse(input).then(() => undefined, (e: unknown) => e);

describe('CodeAnalysisAgent', () => {
  it('analyses every fenced block of a message with the analyzer for its language', async () => {
    const message = [
      'Please review these:',
      '```python',
      'def f(x):',
      '    return x if x else 0',
      '```',
      '```ts',
      'export const g = (a: number) => (a > 1 && a < 9 ? a : 0);',
      '```',
      '```go',
      'func h(a int) int {',
      '\tif a > 0 || a < -5 {',
      '\t\treturn a',
      '\t}',
      '\treturn 0',
      '}',
      '```',
      '```json',
      '{"not": "code"}',
      '```',
    ].join('\n');
    const report = await analyse(message);
    expect(report.blocks.map((b) => [b.language, b.cyclomaticComplexity, b.functions.map((f) => f.name)])).toEqual([
      ['python', 2, ['f']],
      ['typescript', 3, ['g']],
      ['go', 3, ['h']],
    ]);
    expect(report.skipped).toEqual([{ index: 3, language: 'json', reason: 'data, markup or prose, not code' }]);
    expect(report.summary).toMatchObject({ blocks: 3, linesOfCode: 2 + 1 + 6, cyclomaticComplexity: 8, maxFunctionComplexity: 3 });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('treats a string without fences as code and guesses its language', async () => {
    const report = await analyse('def f(a):\n    if a:\n        return 1\n    return 2\n');
    expect(report.blocks).toHaveLength(1);
    expect(report.blocks[0]).toMatchObject({ language: 'python', linesOfCode: 4, totalLines: 4, cyclomaticComplexity: 2 });
  });

  it('accepts { code, language } and { text }', async () => {
    const fromCode = await analyse({ code: 'if (a) { b(); }', language: 'C' });
    expect(fromCode.blocks[0]).toMatchObject({ language: 'c', cyclomaticComplexity: 2 });
    const fromText = await analyse({ text: '```rb\nputs 1 if x\n```' });
    expect(fromText.blocks[0]).toMatchObject({ language: 'ruby', cyclomaticComplexity: 2 });
  });

  it('prefixes summary suggestions with their block when there are several', async () => {
    const params = 'a, b, c, d, e, f';
    const report = await analyse(`\`\`\`js\nfunction wide(${params}) {}\n\`\`\`\n\`\`\`py\ndef wide(${params}):\n    pass\n\`\`\``);
    expect(report.summary.suggestions).toEqual([
      expect.stringMatching(/^Block 1 \(javascript\): Reduce the parameters of `wide`/),
      expect.stringMatching(/^Block 2 \(python\): Reduce the parameters of `wide`/),
    ]);
    expect(report.blocks[0].suggestions).toEqual([expect.stringMatching(/^Reduce the parameters/)]);
  });

  it.each([
    ['an empty string', ''],
    ['whitespace', '  \n '],
    ['a number', 42],
    ['null', null],
    ['an array', ['x']],
    ['an object without code or text', { lang: 'js' }],
    ['both code and text', { code: 'x', text: 'y' }],
    ['code that is not a string', { code: 1 }],
    ['an empty code string', { code: '   ' }],
    ['a bad language', { code: 'x', language: 5 }],
    ['only non-code blocks', '```json\n{}\n```\n```text\nhi\n```'],
    ['only empty blocks', '```js\n\n```'],
  ])('refuses %s as bad input', async (_what, input) => {
    const err = await failure(input);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ code: 'AGENT.BAD_INPUT' });
  });

  it('refuses input over the size cap', async () => {
    const big = `x = 1\n${'#'.repeat(MAX_INPUT_BYTES)}`;
    for (const input of [big, { code: big }, { text: big }]) {
      const err = await failure(input);
      expect(err).toBeInstanceOf(PermanentError);
      expect(err).toMatchObject({ code: 'AGENT.INPUT_TOO_LARGE' });
    }
    await expect(analyse('x = 1\n' + '#'.repeat(MAX_INPUT_BYTES - 10))).resolves.toBeDefined();
  });

  it(`analyses at most ${MAX_BLOCKS} blocks and reports the rest as skipped`, async () => {
    const message = Array.from({ length: MAX_BLOCKS + 2 }, (_, i) => `\`\`\`js\nf${i}();\n\`\`\``).join('\n');
    const report = await analyse(message);
    expect(report.blocks).toHaveLength(MAX_BLOCKS);
    expect(report.skipped).toEqual([
      { index: MAX_BLOCKS, language: 'javascript', reason: `over the limit of ${MAX_BLOCKS} blocks per task` },
      { index: MAX_BLOCKS + 1, language: 'javascript', reason: `over the limit of ${MAX_BLOCKS} blocks per task` },
    ]);
  });

  it('stops between blocks when the signal aborts, and reports progress', async () => {
    const controller = new AbortController();
    const ctx = makeContext({
      signal: controller.signal,
      progress: (value: unknown) => {
        progressed.push(value);
        controller.abort('cancelled');
      },
    });
    const progressed: unknown[] = [];
    await expect(analyse('```js\na();\n```\n```js\nb();\n```\n```js\nc();\n```', ctx)).rejects.toBe('cancelled');
    expect(progressed).toEqual([{ blocksAnalysed: 1, blocks: 3 }]);
  });

  it('does not start when already aborted', async () => {
    const controller = new AbortController();
    controller.abort('shutdown');
    await expect(analyse('x = 1', makeContext({ signal: controller.signal }))).rejects.toBe('shutdown');
  });
});
