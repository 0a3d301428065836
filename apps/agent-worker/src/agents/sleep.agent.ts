/**
 * `sleep` (test agent): waits `input.ms` milliseconds, then returns `{ slept: ms }`.
 * Used to exercise timeouts, cancellation and graceful drain: it rejects as soon as `ctx.signal`
 * aborts, with the signal's reason, and clears its timer so nothing keeps the process alive.
 */
import { z } from 'zod';
import type { Agent, AgentTask, TaskContext } from '@switchboard/agent-sdk';
import { PermanentError } from '@switchboard/agent-sdk';

export const MAX_SLEEP_MS = 600_000;

const SleepInputSchema = z.object({ ms: z.number().min(0).max(MAX_SLEEP_MS) });

export class SleepAgent implements Agent {
  readonly name = 'sleep';
  readonly capabilities = ['sleep'] as const;

  async handle(task: AgentTask, ctx: TaskContext): Promise<{ slept: number }> {
    const parsed = SleepInputSchema.safeParse(task.input);
    if (!parsed.success) {
      throw new PermanentError('AGENT.BAD_INPUT', `sleep expects { "ms": number 0..${MAX_SLEEP_MS} }: ${z.prettifyError(parsed.error)}`);
    }
    const { ms } = parsed.data;
    await sleep(ms, ctx.signal);
    return { slept: ms };
  }
}

/** Resolves after `ms`, or rejects with the abort reason as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}
