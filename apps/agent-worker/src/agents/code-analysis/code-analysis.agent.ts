/**
 * `code-analysis`: measures code sent as a string, a markdown message with fenced blocks, or
 * `{ code, language }`. Per block: lines of code / comments / blanks, cyclomatic complexity
 * (whole block and per function), nesting, function length and parameters, lint-style issues,
 * and plain-language suggestions. TypeScript/JavaScript are parsed with the TypeScript compiler,
 * Python with a tokenizer, other languages with a comment/string-aware generic scanner.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Agent, AgentTask, TaskContext } from '@switchboard/agent-sdk';
import { summarize } from './analysis-summary';
import { parseCodeAnalysisInput } from './code-analysis-input';
import { fitReport } from './report-budget';
import type { AnalysisReport, BlockAnalysis } from './types';

export class CodeAnalysisAgent implements Agent {
  readonly name = 'code-analysis';
  readonly capabilities = ['code-analysis'] as const;

  async handle(task: AgentTask, ctx: TaskContext): Promise<AnalysisReport> {
    ctx.signal.throwIfAborted();
    const { blocks, skipped } = parseCodeAnalysisInput(task.input);
    // Loaded on first use: the analyzers pull in the TypeScript compiler (~40 MB), which a
    // worker that never analyses code should not carry.
    const { analyzeBlock } = await import('./analyze-block');
    const analysed: BlockAnalysis[] = [];
    for (const block of blocks) {
      // Analysis is synchronous: yield between blocks so a cancel or timeout can land.
      if (analysed.length > 0) await nextTurn();
      ctx.signal.throwIfAborted();
      analysed.push(analyzeBlock(block));
      if (blocks.length > 1) ctx.progress({ blocksAnalysed: analysed.length, blocks: blocks.length });
    }
    return fitReport({ blocks: analysed, summary: summarize(analysed), skipped });
  }
}
