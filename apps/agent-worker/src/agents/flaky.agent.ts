/**
 * `flaky` (test agent): fails with a retryable error on the first `failTimes` deliveries, then
 * succeeds. `{ "fail": "permanent" }` fails with a non-retryable error on every delivery.
 * Used to exercise the retry budget, backoff and dead-lettering end to end.
 */
import { z } from 'zod';
import type { Agent, AgentTask, TaskContext } from '@switchboard/agent-sdk';
import { PermanentError, RetryableError } from '@switchboard/agent-sdk';

const FlakyInputSchema = z.object({
  fail: z.literal('permanent').optional(),
  failTimes: z.number().int().min(0).max(1000).optional(),
  result: z.unknown().optional(),
  /** Passed through as the result's `usage` (the usage-reporting convention, `usage.tokens`). */
  usage: z.object({ tokens: z.number().int().min(0) }).optional(),
});

export interface FlakyResult {
  ok: true;
  attempts: number;
  result: unknown;
  usage?: { tokens: number };
}

export class FlakyAgent implements Agent {
  readonly name = 'flaky';
  readonly capabilities = ['flaky'] as const;

  async handle(task: AgentTask, ctx: TaskContext): Promise<FlakyResult> {
    const parsed = FlakyInputSchema.safeParse(task.input);
    const input = parsed.success ? parsed.data : undefined;
    if (input?.fail === 'permanent') {
      throw new PermanentError('AGENT.FLAKY_PERMANENT', `Simulated permanent failure (delivery ${ctx.deliveryCount})`);
    }
    if (input?.failTimes === undefined) {
      throw new PermanentError(
        'AGENT.BAD_INPUT',
        'flaky expects { "failTimes": integer 0..1000, "result"?: any } or { "fail": "permanent" }',
      );
    }
    if (ctx.deliveryCount <= input.failTimes) {
      throw new RetryableError('AGENT.FLAKY', `Simulated transient failure on delivery ${ctx.deliveryCount} of ${input.failTimes}`);
    }
    const out: FlakyResult = { ok: true, attempts: ctx.deliveryCount, result: input.result ?? null };
    if (input.usage) out.usage = input.usage;
    return out;
  }
}
