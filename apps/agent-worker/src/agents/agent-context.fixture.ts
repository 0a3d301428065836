/**
 * Test helpers for agent specs: a task and a task context with sensible defaults, shaped as the
 * SDK hands them to a handler. Plain data, no fakes of timers; specs override what they assert on.
 */
import type { AgentTask, TaskContext } from '@switchboard/agent-sdk';

export function makeTask(capability: string, input: unknown, overrides: Partial<AgentTask> = {}): AgentTask {
  return {
    taskId: 'task-1',
    tenantId: 'tenant-1',
    capability,
    priority: 'normal',
    input,
    metadata: {},
    idempotencyKey: 'task-1',
    deliveryCount: 1,
    deadlineAt: new Date(Date.now() + 30_000).toISOString(),
    ...overrides,
  };
}

export interface RecordingContext extends TaskContext {
  /** Every value passed to `progress`, in order. */
  readonly progressed: unknown[];
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function makeContext(overrides: Partial<TaskContext> = {}): RecordingContext {
  const progressed: unknown[] = [];
  return {
    signal: new AbortController().signal,
    deliveryCount: 1,
    idempotencyKey: 'task-1',
    lease: { taskId: 'task-1', tenantId: 'tenant-1', epoch: 1 },
    logger: silent,
    progress: (value: unknown) => {
      progressed.push(value);
    },
    ...overrides,
    progressed,
  };
}
