/**
 * The Agent abstraction: a pluggable class that declares capabilities and handles tasks.
 * Agents are plain classes with no Nest or NATS imports, so they are unit-tested directly.
 */
import type { QueuedTask } from '@sb/contracts';

export interface AgentContext {
  /** Aborted when the task is cancelled, times out, or the worker is shutting down past its grace period. */
  signal: AbortSignal;
  /** 1 on the first delivery; grows with each redelivery (retries, reclaims). */
  deliveryCount: number;
  /** Stable across redeliveries: the caller's Idempotency-Key, or the task id. */
  idempotencyKey: string;
  agentId: string;
  /** Report progress (any JSON); stored on the task record, best effort. */
  progress(value: unknown): void;
}

export interface Agent {
  readonly name: string;
  readonly capabilities: readonly string[];
  /** Finer routing than the capability alone (input shape, metadata). Defaults to true. */
  canHandle?(task: QueuedTask): boolean;
  handle(task: QueuedTask, ctx: AgentContext): Promise<unknown>;
}

/** An agent's failure with a stable code; its subclass says whether a retry can help. */
export abstract class AgentTaskError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Thrown by an agent when retrying cannot help (bad input for this agent, a refused request).
 * The task ends `failed` at once instead of going through the retry budget.
 */
export class NonRetryableTaskError extends AgentTaskError {}

/** Thrown by an agent for a transient failure; the task is retried with backoff. */
export class RetryableTaskError extends AgentTaskError {}
