/**
 * Agent protocol v1 (docs/agent-protocol.md): what an agent, in any language, sends and gets
 * back to do work. Public: fields are only ever added. The subjects are in subjects.ts
 * (`names().agents`), the endpoints in agent-endpoints.ts.
 */
import { z } from 'zod';
import { boundedJson } from './json-depth';
import { CapabilitySchema, TaskIdSchema, TenantIdSchema } from './schemas';
import type { Endpoint, Subscriber } from './endpoints';
import type { AgentVerb, Names, Priority } from './subjects';

/** The header every message of a registered agent carries: the session `register` answered with. */
export const AGENT_SESSION_HEADER = 'Sb-Agent-Session';

/** The largest `take` batch and long-poll. */
export const MAX_TAKE = 256;
export const MAX_TAKE_WAIT_MS = 30_000;

/** A task's lease: who may change it, at which epoch (goes up with every new lease of the task). */
export const LeaseSchema = z
  .object({
    taskId: TaskIdSchema,
    tenantId: TenantIdSchema,
    epoch: z.number().int().min(1),
  })
  .strict();
export type Lease = z.infer<typeof LeaseSchema>;

/** Long-poll for up to `max` leased tasks of the agent's capabilities (or this subset), waiting at most `waitMs` for the first. */
export const TakeRequestSchema = z
  .object({
    capabilities: z.array(CapabilitySchema).max(256).optional(),
    max: z.number().int().min(1).max(MAX_TAKE).default(1),
    waitMs: z.number().int().min(0).max(MAX_TAKE_WAIT_MS).default(0),
  })
  .strict();
export type TakeRequest = z.infer<typeof TakeRequestSchema>;

/** A task handed to an agent under a lease: everything it needs to run it. */
export interface LeasedTask {
  taskId: string;
  tenantId: string;
  capability: string;
  priority: Priority;
  input: unknown;
  metadata: Record<string, unknown>;
  /** The caller's Idempotency-Key, or the task id: key side effects on it. */
  idempotencyKey: string;
  /** 1 on the first attempt. */
  deliveryCount: number;
  deadlineAt: string;
  /** Continues the task's trace (W3C). */
  traceparent?: string;
  lease: Lease;
  /** Without a keep-alive, the lease ends then. */
  leaseExpiresAt: string;
  /** The dispatcher that granted the lease: keepalive, progress, complete and fail go to `<prefix>.v1.agents.<agentId>.<verb>.<dispatcher>`. */
  dispatcher: string;
}

export interface TakeReply {
  tasks: LeasedTask[];
}

export const KeepAliveRequestSchema = z.object({ leases: z.array(LeaseSchema).min(1).max(1024) }).strict();
export type KeepAliveRequest = z.infer<typeof KeepAliveRequestSchema>;

/** Why an agent no longer holds a task: stop working on it (its result would be refused). */
export const LEASE_END_REASONS = ['cancelled', 'timed_out', 'reclaimed', 'done'] as const;
export type LeaseEndReason = (typeof LEASE_END_REASONS)[number];

export interface KeepAliveReply {
  leases: Array<{ taskId: string; held: boolean; reason?: LeaseEndReason }>;
}

export const ProgressRequestSchema = z.object({ lease: LeaseSchema, progress: boundedJson }).strict();
export type ProgressRequest = z.infer<typeof ProgressRequestSchema>;

/** The error classes an agent may report (the breakers also count `cancelled` and `worker_lost`, which only the control plane decides). */
export const AGENT_ERROR_CLASSES = ['agent_error', 'rate_limited', 'timeout', 'dependency'] as const;

export const AgentFailureSchema = z
  .object({
    code: z.string().regex(/^[A-Z0-9_.]{1,64}$/, 'code must be 1-64 characters of A-Z 0-9 _ .'),
    message: z.string().max(4096),
    class: z.enum(AGENT_ERROR_CLASSES).default('agent_error'),
    retryable: z.boolean(),
    /** For `rate_limited`: the next attempt waits at least this long. */
    retryAfterMs: z.number().int().min(0).max(24 * 3600_000).optional(),
  })
  .strict();
export type AgentFailure = z.infer<typeof AgentFailureSchema>;

export const CompleteRequestSchema = z.object({ lease: LeaseSchema, result: boundedJson, take: TakeRequestSchema.optional() }).strict();
export type CompleteRequest = z.infer<typeof CompleteRequestSchema>;

export const FailRequestSchema = z.object({ lease: LeaseSchema, error: AgentFailureSchema, take: TakeRequestSchema.optional() }).strict();
export type FailRequest = z.infer<typeof FailRequestSchema>;

/** How an attempt ended, as stored. */
export interface OutcomeReply {
  status: 'succeeded' | 'failed' | 'retrying' | 'dead_lettered';
  /** The next tasks, when the request asked for them (`take`). */
  tasks?: LeasedTask[];
}

/** `<prefix>.v1.agents.<agentId>.abort`: stop working on this task now. */
export interface AbortNotice {
  taskId: string;
  tenantId: string;
  epoch: number;
  reason: LeaseEndReason;
}

/** What `register` answers: `RegistrationReply` (fleet-endpoints.ts), with the session. */

const ep = <Req extends z.ZodType, Res>(subject: (n: Names, self?: Subscriber) => string, request: Req): Endpoint<Req, Res> => ({ subject, request });

/** The dispatcher serving a verb: one instance's own subject (the verbs on a lease go where it was granted). */
const own = (verb: AgentVerb) => (n: Names, self?: Subscriber) => n.agents.workAll(verb, self?.instanceId ?? '*');

/**
 * The work verbs, served by the gateway's dispatcher: `take` on `<prefix>.v1.agents.*.take` by
 * any instance, the rest on `<prefix>.v1.agents.*.<verb>.<its instance id>` (the agent id is the
 * subject's 4th token).
 */
export const AgentEndpoints = {
  take: ep<typeof TakeRequestSchema, TakeReply>((n) => n.agents.workAll('take'), TakeRequestSchema),
  keepAlive: ep<typeof KeepAliveRequestSchema, KeepAliveReply>(own('keepalive'), KeepAliveRequestSchema),
  progress: ep<typeof ProgressRequestSchema, { ok: true }>(own('progress'), ProgressRequestSchema),
  complete: ep<typeof CompleteRequestSchema, OutcomeReply>(own('complete'), CompleteRequestSchema),
  fail: ep<typeof FailRequestSchema, OutcomeReply>(own('fail'), FailRequestSchema),
} as const;
