import { extractFencedBlocks } from './markdown-blocks';

describe('extractFencedBlocks', () => {
  it('extracts several blocks with their tags and lines', () => {
    const message = [
      'Please review:', //                1
      '```python', //                      2
      'def f():', //
      '    return 1',
      '```',
      'and this one', //                   6
      '~~~ts title="a.ts"', //             7
      'const x = 1;',
      '~~~',
      '```', //                            10
      'plain',
      '```',
      '```{.rust}', //                      13
      'fn main() {}',
      '```',
    ].join('\n');
    expect(extractFencedBlocks(message)).toEqual([
      { tag: 'python', line: 2, code: 'def f():\n    return 1' },
      { tag: 'ts', line: 7, code: 'const x = 1;' },
      { tag: '', line: 10, code: 'plain' },
      { tag: 'rust', line: 13, code: 'fn main() {}' },
    ]);
  });

  it('needs a closing fence of the same character, at least as long', () => {
    const message = '````markdown\n```js\ninner();\n```\n````\n~~~\na ``` b\n```\n~~~';
    expect(extractFencedBlocks(message)).toEqual([
      { tag: 'markdown', line: 1, code: '```js\ninner();\n```' },
      { tag: '', line: 6, code: 'a ``` b\n```' },
    ]);
  });

  it('removes the opening fence indentation from the content', () => {
    expect(extractFencedBlocks('1. Step\n   ```c\n   int x;\n     y++;\n   ```')).toEqual([{ tag: 'c', line: 2, code: 'int x;\n  y++;' }]);
  });

  it('runs an unclosed block to the end, and accepts a fence ending a code line', () => {
    expect(extractFencedBlocks('```go\nx := 1')).toEqual([{ tag: 'go', line: 1, code: 'x := 1' }]);
    expect(extractFencedBlocks('```js\nfoo();\nbar()```\ntext')).toEqual([{ tag: 'js', line: 1, code: 'foo();\nbar()' }]);
  });

  it('ignores inline triple backticks and text without fences', () => {
    expect(extractFencedBlocks('Use ```x``` inline, or `y`.')).toEqual([]);
    expect(extractFencedBlocks('no code here')).toEqual([]);
  });
});
