/**
 * Request/reply endpoints: a subject plus the schema of what it accepts. The messaging lib
 * serves and calls endpoints by these definitions, so both ends validate the same way.
 */
import type { z } from 'zod';
import type { Names } from './subjects';
import { type ConsumerDecl, Durables, type FleetDurableKey, Streams } from './topology';
import * as S from './schemas';

export interface Endpoint<Req extends z.ZodType, Res> {
  /** Served at this subject; `self` is the serving process, for endpoints addressed to one instance. */
  subject: (n: Names, self?: Subscriber) => string;
  request: Req;
  /** Phantom: the reply type. */
  readonly _res?: Res;
}
const ep = <Req extends z.ZodType, Res>(subject: (n: Names) => string, request: Req): Endpoint<Req, Res> => ({ subject, request });

export const Endpoints = {
  submitTask: ep<typeof S.SubmitTaskRequestSchema, S.SubmitReply | S.PublicTask>((n) => n.tasks.submit, S.SubmitTaskRequestSchema),
  getTask: ep<typeof S.TaskIdRequestSchema, S.PublicTask>((n) => n.tasks.get, S.TaskIdRequestSchema),
  cancelTask: ep<typeof S.TaskIdRequestSchema, S.PublicTask>((n) => n.tasks.cancel, S.TaskIdRequestSchema),
  /** A page of the caller's tenant's tasks (`Sb-Next-Cursor` reply header: the next page's `cursor`). */
  listTasks: ep<typeof S.ListTasksQuerySchema, S.PublicTask[]>((n) => n.tasks.list, S.ListTasksQuerySchema),
  authorize: ep<typeof S.AuthorizeRequestSchema, S.Principal>((n) => n.internal.authorize, S.AuthorizeRequestSchema),
  createKey: ep<typeof S.IssueKeyRequestSchema, S.ApiKeyView>((n) => n.internal.keysCreate, S.IssueKeyRequestSchema),
  listKeys: ep<typeof S.ListKeysByRequestSchema, S.ApiKeyView[]>((n) => n.internal.keysList, S.ListKeysByRequestSchema),
  revokeKey: ep<typeof S.RevokeKeyRequestSchema, S.ApiKeyView>((n) => n.internal.keysRevoke, S.RevokeKeyRequestSchema),
  admit: ep<typeof S.AdmitRequestSchema, S.AdmitReply>((n) => n.internal.admit, S.AdmitRequestSchema),
  createTenant: ep<typeof S.CreateTenantRequestSchema, S.Tenant>((n) => n.internal.tenantsCreate, S.CreateTenantRequestSchema),
  getTenant: ep<typeof S.TenantIdRequestSchema, S.Tenant>((n) => n.internal.tenantsGet, S.TenantIdRequestSchema),
  listTenants: ep<typeof S.ListKeysRequestSchema, S.Tenant[]>((n) => n.internal.tenantsList, S.ListKeysRequestSchema),
} as const;

export type ReqOf<E> = E extends Endpoint<infer R, unknown> ? z.input<R> : never;
export type ParsedReqOf<E> = E extends Endpoint<infer R, unknown> ? z.output<R> : never;
export type ResOf<E> = E extends Endpoint<z.ZodType, infer Res> ? Res : never;

/**
 * A published message a service subscribes to (core NATS, at most once): its subject, which may
 * hold wildcards, and the largest body a subscriber decodes. Every replica receives it unless
 * `shared`, when the service's replicas share it as a queue group. A body that is not JSON or
 * is too large reaches the handler as `undefined` (an event has no reply to carry an error).
 */
/** Who subscribes: the service, and this process of it (for subjects addressed to one instance). */
export interface Subscriber {
  service: string;
  instanceId: string;
}

export interface EventEndpoint<T = unknown> {
  readonly kind: 'event';
  subject: (n: Names, self: Subscriber) => string;
  maxBytes: number;
  shared?: boolean;
  /** Phantom: the body type. */
  readonly _body?: T;
}
export const eventOf = <T = unknown>(subject: (n: Names, self: Subscriber) => string, maxBytes: number, opts: { shared?: boolean } = {}): EventEndpoint<T> => ({
  kind: 'event',
  subject,
  maxBytes,
  ...opts,
});

/**
 * A durable JetStream consumer a service runs: stream, durable name, how many messages its
 * handler works on at once, and the largest body it decodes. Ack policy is explicit: the
 * transport acks when the handler returns, naks a retryable failure with backoff, and
 * terminates a message that can never succeed.
 */
export interface ConsumerEndpoint<T = unknown> {
  readonly kind: 'consumer';
  stream: (n: Names) => string;
  durable: (n: Names) => string;
  concurrency: number;
  maxBytes: number;
  /** Phantom: the body type. */
  readonly _body?: T;
}
/** The handler side of a fleet-wide durable declared in topology.ts. */
export const consumerOf = <T = unknown>(key: FleetDurableKey, opts: { concurrency: number; maxBytes: number }): ConsumerEndpoint<T> => {
  const d = Durables[key] as ConsumerDecl<void>;
  return { kind: 'consumer', stream: (n) => Streams[d.stream].name(n), durable: (n) => d.durable(n), ...opts };
};

export type AnyEndpoint = Endpoint<z.ZodType, unknown> | EventEndpoint | ConsumerEndpoint;
