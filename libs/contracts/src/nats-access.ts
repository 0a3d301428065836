/**
 * Who may reach what on the bus, as data: the NATS accounts Switchboard runs in, what the
 * platform account exports to the others, and the subject permissions of every kind of user.
 * `libs/messaging/src/nats-auth` turns these into account and user JWTs; the server enforces
 * them. Nothing here depends on a NATS library.
 *
 *  - PLATFORM: every service, one user per service (servicePermissions). Holds JetStream, KV and
 *    every internal subject. No one outside it can reach `$JS.API`, KV, the queue or internal subjects.
 *  - one account per tenant: imports the task request subjects (a service) and its own tenant's
 *    task events (a stream). The server stamps every imported request with the requester's
 *    account (`Nats-Request-Info`), so the gateway knows the tenant without trusting a header.
 *  - AGENTS: every agent; a user speaks the agent protocol for its own id (or, for a pool
 *    credential, any id: the agent key then binds the pool) with a private inbox.
 *  - OPS: read-only subscribers to alerts and agents' up/down/left.
 */
import type { Scope } from './schemas';
import type { AgentVerb, Names } from './subjects';
import type { ServiceName } from './topology';

export interface NatsPermission {
  allow?: string[];
  deny?: string[];
}
export interface NatsPermissions {
  pub: NatsPermission;
  sub: NatsPermission;
}

export const NATS_ROLES = ['tenant', 'agent', 'subscriber'] as const;
export type NatsRole = (typeof NATS_ROLES)[number];

/** The services that run in the platform account (agent-worker is an agent, not a service). */
export type PlatformService = Exclude<ServiceName, 'agent-worker'>;
export const PLATFORM_SERVICES: readonly PlatformService[] = ['gateway', 'auth', 'tenancy', 'metrics-collector', 'alerting', 'recovery'];

/** The agent protocol's request verbs on a lease (`<p>.v1.agents.<id>.<verb>.<dispatcher>`). */
const LEASE_VERBS: readonly AgentVerb[] = ['keepalive', 'progress', 'complete', 'fail'];

/**
 * What the platform account exports, for every prefix (`*` first token): each importing
 * account narrows it to its own prefix and, for tenants, its own tenant.
 */
export const PLATFORM_EXPORTS = {
  /** Tenants' request subjects: submit, get, cancel, list. */
  taskRequests: { subject: '*.v1.tasks.*', type: 'service' as const },
  taskEvents: { subject: '*.v1.tasks.events.>', type: 'stream' as const },
  /** What agents send: registration, heartbeats, metrics, take and the verbs on a lease. */
  agentRequests: [
    '*.v1.agents.register',
    '*.v1.agents.deregister',
    '*.v1.agents.heartbeat.*',
    '*.v1.agents.metrics.*',
    '*.v1.agents.*.take',
    ...LEASE_VERBS.map((v) => `*.v1.agents.*.${v}.*`),
  ].map((subject) => ({ subject, type: 'service' as const })),
  /** What agents are told: abort a task, register again. */
  agentNotices: ['*.v1.agents.*.abort', '*.internal.fleet.reregister.*'].map((subject) => ({ subject, type: 'stream' as const })),
  /** What ops subscribers read. */
  opsEvents: ['*.v1.alerts.>', '*.v1.agents.*.up', '*.v1.agents.*.down', '*.v1.agents.*.left'].map((subject) => ({ subject, type: 'stream' as const })),
};

/** The private inbox prefix of a client user: its replies arrive under `<prefix>.>` and nobody else's do. */
export const inboxPrefixOf = (userPublicKey: string): string => `_INBOX_${userPublicKey}`;

/**
 * Subjects only one service may serve (subscribe to); everyone else is denied them. Written as
 * wildcards where a namespace is the service's alone: a user JWT travels in CONNECT, which
 * nats-server caps at 4 KiB by default.
 */
function served(n: Names): Record<PlatformService, string[]> {
  const p = n.prefix;
  const auth = `${p}.internal.auth`;
  const tenancy = `${p}.internal.tenancy`;
  return {
    // Not keys.revoked nor jwks.changed: every gateway listens to those.
    auth: [`${auth}.*`, ...['create', 'list', 'revoke', 'rotate', 'invalidated'].map((v) => `${auth}.keys.${v}`), `${auth}.tokens.*`, `${auth}.jwks.get`, `${auth}.security.*`, `${auth}.nats.*`],
    // Not tenants.changed (an announcement).
    tenancy: [`${tenancy}.*`, ...['create', 'get', 'list', 'patch', 'usage'].map((v) => `${tenancy}.tenants.${v}`)],
    'metrics-collector': [n.agents.register, `${p}.internal.fleet.agents`, `${p}.internal.fleet.overview`, `${p}.internal.fleet.report`],
    alerting: [`${p}.internal.alerting.>`, n.alerts.raise],
    // incidents.changed.<id> (an announcement) is a token deeper than incidents.*.
    recovery: [`${p}.internal.recovery.dlq.*`, `${p}.internal.recovery.incidents.*`, n.resilience.outcomesAll],
    // Lease verbs are the only 6-token agent subjects (`<p>.v1.agents.<id>.<verb>.<dispatcher>`).
    gateway: [`${p}.v1.tasks.*`, n.agents.workAll('take'), `${p}.v1.agents.*.*.*`, `${p}.internal.tasks.done.*`],
  };
}

/** Subjects only the listed services may publish: announcements others act on. */
function announced(n: Names): { subjects: string[]; by: PlatformService[] }[] {
  const p = n.prefix;
  const i = n.internal;
  return [
    { subjects: [i.jwksChanged, i.keyRevoked], by: ['auth'] },
    { subjects: [i.tenantChanged], by: ['tenancy'] },
    // up, down, left: the 5-token agent subjects other than the heartbeat and metrics ones.
    { subjects: [n.agents.livenessOf('up'), n.agents.livenessOf('down'), n.agents.livenessOf('left'), `${p}.internal.fleet.samples`, `${p}.internal.fleet.reregister.*`, `${p}.internal.fleet.metrics`], by: ['metrics-collector'] },
    { subjects: [n.alerts.all], by: ['alerting'] },
    { subjects: [n.resilience.breakers, n.resilience.shedding, n.recoveryCore.incidentChangedAll], by: ['recovery'] },
    { subjects: [n.agents.workAll('abort')], by: ['gateway'] },
    // Not the task tallies (internal.tasks.tally, gateway and recovery): only the console's charts
    // read them, and one more subject here no longer fits every service's user JWT in 4 KiB.
    { subjects: [n.queue.all], by: ['gateway', 'recovery'] },
  ];
}

/** Every JetStream API subject that names a stream (info, get, consumers, direct get...), and its KV subjects. */
function streamApi(stream: string): string[] {
  return [`$JS.API.*.*.${stream}`, `$JS.API.*.*.${stream}.>`, `$JS.API.*.*.*.${stream}`, `$JS.API.*.*.*.${stream}.>`];
}
/** Buckets only their owner may read or write (auth's signing keys). */
function privateBuckets(n: Names): { bucket: string; owner: PlatformService }[] {
  return [{ bucket: `${n.buckets.keys}_signing`, owner: 'auth' }];
}

/** A service's user in the platform account: everything of its prefix but what belongs to another service. */
export function servicePermissions(n: Names, service: PlatformService): NatsPermissions {
  const p = n.prefix;
  const servedByOthers = Object.entries(served(n))
    .filter(([s]) => s !== service)
    .flatMap(([, subjects]) => subjects);
  const announcedByOthers = announced(n)
    .filter((a) => !a.by.includes(service))
    .flatMap((a) => a.subjects);
  const othersBuckets = privateBuckets(n).filter((b) => b.owner !== service);
  const bucketApi = othersBuckets.flatMap((b) => [...streamApi(`KV_${b.bucket}`), `$KV.${b.bucket}.>`]);
  return {
    pub: {
      allow: [`${p}.>`, '$JS.API.>', '$JS.ACK.>', '$JS.FC.>', '$KV.>', '_INBOX.>', '_R_.>'],
      deny: [...announcedByOthers, ...bucketApi],
    },
    sub: {
      allow: [`${p}.>`, '_INBOX.>', '$KV.>', '$JS.EVENT.>'],
      deny: [...servedByOthers, ...othersBuckets.map((b) => `$KV.${b.bucket}.>`)],
    },
  };
}

/** A tenant's client: the task requests its scopes allow, its own events, its own inbox. */
export function tenantPermissions(n: Names, tenantId: string, scopes: readonly Scope[], inboxPrefix: string): NatsPermissions {
  const pub: string[] = [];
  const sub = [`${inboxPrefix}.>`];
  if (scopes.includes('tasks:submit')) pub.push(n.tasks.submit, n.tasks.cancel);
  if (scopes.includes('tasks:read')) {
    pub.push(n.tasks.get, n.tasks.list);
    sub.push(n.tasks.eventsOfTenant(tenantId));
  }
  return { pub: { allow: pub, deny: pub.length ? [] : ['>'] }, sub: { allow: sub } };
}

/** An agent: the agent protocol for its own id (`*`: any id, for a pool credential) and its own inbox. */
export function agentPermissions(n: Names, agentId: string, inboxPrefix: string): NatsPermissions {
  const p = n.prefix;
  return {
    pub: {
      allow: [
        n.agents.register,
        n.agents.deregister,
        n.agents.heartbeat(agentId),
        n.agents.metrics(agentId),
        n.agents.work(agentId, 'take'),
        ...LEASE_VERBS.map((v) => `${p}.v1.agents.${agentId}.${v}.*`),
      ],
    },
    sub: { allow: [`${inboxPrefix}.>`, n.agents.work(agentId, 'abort'), n.fleetApi.reregister(agentId)] },
  };
}

/** An ops subscriber: alerts and agents' liveness, read-only. */
export function subscriberPermissions(n: Names): NatsPermissions {
  return {
    pub: { deny: ['>'] },
    sub: { allow: [n.alerts.all, n.agents.livenessOf('up'), n.agents.livenessOf('down'), n.agents.livenessOf('left')] },
  };
}

/** The name a tenant's NATS account carries (`<prefix>/<tenant>`): how the gateway maps an account to its tenant. */
export const tenantAccountName = (prefix: string, tenantId: string): string => `${prefix}/${tenantId}`;