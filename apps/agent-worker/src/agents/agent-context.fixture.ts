/**
 * Test helpers for agent specs: a queued task and an agent context with sensible defaults.
 * Plain data, no fakes of timers; specs override what they assert on.
 */
import type { QueuedTask } from '@sb/contracts';
import type { AgentContext } from './agent';

export function makeTask(capability: string, input: unknown, overrides: Partial<QueuedTask> = {}): QueuedTask {
  const now = new Date();
  return {
    taskId: 'task-1',
    tenantId: 'tenant-1',
    capability,
    priority: 'normal',
    input,
    metadata: {},
    timeoutMs: 30_000,
    deadlineAt: new Date(now.getTime() + 30_000).toISOString(),
    createdAt: now.toISOString(),
    ...overrides,
  };
}

export interface RecordingContext extends AgentContext {
  /** Every value passed to `progress`, in order. */
  readonly progressed: unknown[];
}

export function makeContext(overrides: Partial<AgentContext> = {}): RecordingContext {
  const progressed: unknown[] = [];
  return {
    signal: new AbortController().signal,
    deliveryCount: 1,
    idempotencyKey: 'task-1',
    agentId: 'agent-test',
    progress: (value: unknown) => {
      progressed.push(value);
    },
    ...overrides,
    progressed,
  };
}
