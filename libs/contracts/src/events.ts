/**
 * Every published message a service subscribes to, declared once: subject (under the prefix),
 * body type, and the largest body a subscriber decodes. Handlers take these with
 * `@EventPattern(Events.x)`; several services may subscribe to the same event. Durable
 * JetStream consumers are declared in `Consumers`, for `@JetStreamConsumer(Consumers.x)`.
 *
 * Public events (`<prefix>.v1.…`) are part of the contract in the README; the rest are internal.
 */
import type { AlertNotification } from './alert-notification';
import type { Jwks, KeyInvalidation } from './auth-schemas';
import { consumerOf, eventOf } from './endpoints';
import type { AgentLivenessEvent, AlertEvent, Deregistration, Heartbeat, MetricBatch, RaiseAlert } from './fleet-schemas';
import type { BreakerState, OutcomeBatch, ShedState } from './resilience-schemas';
import type { DeadLetter, PublicTask, TaskEvent, TaskReadyHint, TaskTally } from './schemas';
import type { UsageTaskEvent } from './tenancy-events';

const KiB = 1024;
const MiB = 1024 * KiB;

export const Events = {
  // --- agents (public: what agents publish, and the collector's liveness verdicts) ---------------
  /** `<prefix>.v1.agents.heartbeat.<agentId>`: the agent id is the subject's last token. */
  heartbeat: eventOf<Heartbeat>((n) => n.agents.heartbeatAll, 512 * KiB),
  /** `<prefix>.v1.agents.metrics.<agentId>`: an agent's metric batch. */
  metricBatch: eventOf<MetricBatch>((n) => n.agents.metricsAll, 8 * MiB),
  /** An agent leaves gracefully. */
  deregister: eventOf<Deregistration>((n) => n.agents.deregister, 64 * KiB),
  /**
   * Collector → one agent (`<prefix>.internal.fleet.reregister.<agentId>`): "I do not know you"
   * (its state was lost); the agent registers again. Agents subscribe with their id as instance id.
   */
  reregister: eventOf<undefined>((n, self) => n.fleetApi.reregister(self.instanceId), KiB),
  /** `<prefix>.v1.agents.<agentId>.up|down|left`. */
  agentUp: eventOf<AgentLivenessEvent>((n) => n.agents.livenessOf('up'), 64 * KiB),
  agentDown: eventOf<AgentLivenessEvent>((n) => n.agents.livenessOf('down'), 64 * KiB),
  agentLeft: eventOf<AgentLivenessEvent>((n) => n.agents.livenessOf('left'), 64 * KiB),

  // --- alerts -------------------------------------------------------------------------------------
  /** `<prefix>.v1.alerts.<severity>.<state>` (public): every alert state change. */
  alert: eventOf<AlertEvent>((n) => n.alerts.all, 256 * KiB),
  /** Another service raises or resolves an alert on alerting's intake. */
  raiseAlert: eventOf<RaiseAlert>((n) => n.alerts.raise, 256 * KiB),
  /** The collector's fleet-wide samples, as a metric batch (evaluated as agent `fleet`). */
  fleetSamples: eventOf<MetricBatch>((n) => n.fleet.samples, 8 * MiB),
  /** Collector → alerting: an agent's samples the collector validated and accepted (the agent's batch, refused samples removed). */
  validatedMetrics: eventOf<MetricBatch>((n) => n.fleet.validatedMetrics, 8 * MiB),

  // --- tasks --------------------------------------------------------------------------------------
  /** `<prefix>.v1.tasks.events.<tenant>.<task>.<status>` (public): every task status change. */
  taskEvent: eventOf<TaskEvent>((n) => n.tasks.eventsAll, 64 * KiB),
  /**
   * Worker → the one gateway process waiting for a submit-and-wait: the finished task. The queued
   * message names that gateway's subject in its `Sb-Notify` header; each gateway listens on its own.
   */
  taskCompletion: eventOf<PublicTask>((n, self) => n.internal.taskDone(self.instanceId), 64 * MiB),
  /** A gateway or recovery ended a task away from its worker (cancel, time-out): every gateway's waiters hear it. */
  taskEnded: eventOf<{ tenantId?: unknown; taskId?: unknown }>((n) => n.internal.taskEnded, 64 * KiB),
  /** Finished tasks per capability and status, from each process that ends tasks, every second (the console's throughput and error charts). */
  taskTally: eventOf<TaskTally>((n) => n.internal.taskTally, 256 * KiB),
  /** `<prefix>.internal.tasks.ready.<capability>.<priority>`: work was queued (body: who queued it); a hint for takes waiting for work. */
  taskReady: eventOf<Partial<TaskReadyHint> | undefined>((n) => n.internal.taskReadyAll, KiB),
  /** `<prefix>.internal.tasks.abort.<taskId>`: the agent running the task stops it (empty body). */
  taskAbort: eventOf<undefined>((n) => n.internal.taskAbortAll, KiB),
  /** `<prefix>.dlq.<capability>`: a task was dead-lettered (recovery's poison-task watch). */
  deadLettered: eventOf<DeadLetter>((n) => n.deadLetters.all, 64 * MiB),

  // --- auth and tenancy → gateways ----------------------------------------------------------------
  /** A key was revoked or given an earlier expiry: gateways evict its cached checks and refuse its tokens. */
  keyRevoked: eventOf<Partial<KeyInvalidation>>((n) => n.internal.keyRevoked, 64 * KiB),
  /** The signing key set changed; the body is the new public set (empty: fetch it). */
  jwksChanged: eventOf<Jwks>((n) => n.internal.jwksChanged, 256 * KiB),
  /** A tenant changed (`{id, status}`): its cached admission policy is dropped. */
  tenantChanged: eventOf<{ id?: unknown; status?: unknown }>((n) => n.internal.tenantChanged, 64 * KiB),

  // --- resilience ---------------------------------------------------------------------------------
  /** `<prefix>.internal.resilience.outcomes.<agentId>`: a worker's batched attempt outcomes, for the breakers. */
  outcomes: eventOf<OutcomeBatch>((n) => n.resilience.outcomesAll, MiB),
  /** Recovery's load-shedding state per capability. */
  shedding: eventOf<ShedState>((n) => n.resilience.shedding, 64 * KiB),
  /** Recovery's circuit-breaker changes. */
  breaker: eventOf<BreakerState>((n) => n.resilience.breakers, 64 * KiB),
} as const;

export const Consumers = {
  /**
   * Notification fan-out (alerting): one durable consumer on the outbox stream, shared by every
   * replica, so each notification is fanned out once; one at a time, in stream order.
   */
  notificationFanout: consumerOf<AlertNotification>('notificationFanout', { concurrency: 1, maxBytes: 64 * MiB }),
  /** Usage accounting (tenancy): every final task event, counted once per task (idempotent per task id). */
  usage: consumerOf<UsageTaskEvent>('usage', { concurrency: 32, maxBytes: 64 * MiB }),
} as const;
