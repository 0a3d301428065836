/** What a user writes: an agent is a name, the capabilities it serves, and a handler. */
import { CAPABILITY_PATTERN, type Lease, type Priority } from './protocol';

/** Why a task's `ctx.signal` was aborted (`ctx.signal.reason`). */
export type AbortReason =
  /** The caller cancelled the task. */
  | 'cancelled'
  /** The task's deadline passed. */
  | 'timed_out'
  /** The agent no longer holds the task (reclaimed, dispatcher gone): its result would be refused. */
  | 'lost_lease'
  /** The runner is stopping and the grace period ran out. */
  | 'shutdown';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A task as a handler sees it. */
export interface AgentTask<I = unknown> {
  taskId: string;
  tenantId: string;
  capability: string;
  priority: Priority;
  input: I;
  metadata: Record<string, unknown>;
  /** The caller's Idempotency-Key, or the task id: key side effects on it. */
  idempotencyKey: string;
  /** 1 on the first attempt. */
  deliveryCount: number;
  /** ISO time after which the task has timed out. */
  deadlineAt: string;
  /** W3C traceparent continuing the task's trace, when it has one. */
  traceparent?: string;
}

export interface TaskContext {
  /** Report progress (any JSON, at most 64 KiB); it reaches the task record and its event stream. Best effort. */
  progress(value: unknown): void;
  /** Aborted when the task is cancelled, times out, its lease is lost, or the runner shuts down; `signal.reason` is an AbortReason. */
  readonly signal: AbortSignal;
  readonly lease: Readonly<Lease>;
  readonly idempotencyKey: string;
  readonly deliveryCount: number;
  /** The runner's logger, with the task's ids in every line. */
  readonly logger: Logger;
}

export interface AgentDefinition<I = unknown, R = unknown> {
  /** For logs. */
  name: string;
  /** Capabilities this agent serves (`^[a-z0-9][a-z0-9-]{0,62}$`). */
  capabilities: readonly string[];
  /**
   * Optional extra check. A task no agent of the runner accepts is failed without retry
   * (AGENT.CANNOT_HANDLE); when several agents serve a capability, the first that accepts runs it.
   */
  canHandle?: (task: AgentTask<I>) => boolean;
  /** Run the task: the value returned is its result; what is thrown decides retry (RetryableError, PermanentError). */
  handle(task: AgentTask<I>, ctx: TaskContext): R | Promise<R>;
}

/** An agent, checked: pass it to `runAgents`. */
export interface Agent<I = unknown, R = unknown> extends AgentDefinition<I, R> {
  readonly capabilities: readonly string[];
}

export function defineAgent<I = unknown, R = unknown>(def: AgentDefinition<I, R>): Agent<I, R> {
  if (!def || typeof def.handle !== 'function') throw new TypeError('defineAgent: `handle` must be a function');
  if (typeof def.name !== 'string' || !def.name) throw new TypeError('defineAgent: `name` is required');
  if (!Array.isArray(def.capabilities) || def.capabilities.length === 0) throw new TypeError(`defineAgent(${def.name}): at least one capability is required`);
  for (const c of def.capabilities) {
    if (typeof c !== 'string' || !CAPABILITY_PATTERN.test(c)) throw new TypeError(`defineAgent(${def.name}): capability ${JSON.stringify(c)} must match ${CAPABILITY_PATTERN}`);
  }
  if (def.canHandle !== undefined && typeof def.canHandle !== 'function') throw new TypeError(`defineAgent(${def.name}): canHandle must be a function`);
  return Object.freeze({ ...def, capabilities: Object.freeze([...new Set(def.capabilities)]) });
}
